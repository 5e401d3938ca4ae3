"""Dead letters: messages that failed every attempt; replay them or discard them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from dashboard.web import page, page_router, see_other
from shared import deadletters
from shared.handlers.http import runtime
from shared.pagination.params import CursorParam
from shared.ports import Runtime

router = page_router()
PAGE_SIZE = 25


@router.get("/dead-letters", include_in_schema=False)
async def list_letters(
    request: Request,
    stage: Annotated[str, Query(max_length=32)] = "",
    cursor: CursorParam = None,
    rt: Runtime = Depends(runtime),
) -> HTMLResponse:
    found = await deadletters.list_(rt, PAGE_SIZE, cursor, stage or None)
    return page(
        request,
        rt,
        "deadletters.html",
        {
            "letters": found.items,
            "next_cursor": found.next_cursor,
            "stage": stage,
            "stages": rt.flow.names,
            "filtered": bool(stage or cursor),
        },
    )


@router.post("/dead-letters/{letter_id}/replay", include_in_schema=False)
async def replay(letter_id: str, rt: Runtime = Depends(runtime)) -> Response:
    await deadletters.replay(rt, letter_id)
    return see_other("/dead-letters", "replayed")


@router.post("/dead-letters/{letter_id}/discard", include_in_schema=False)
async def discard(letter_id: str, rt: Runtime = Depends(runtime)) -> Response:
    await deadletters.discard(rt, letter_id)
    return see_other("/dead-letters", "discarded")

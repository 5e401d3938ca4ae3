"""Webhooks: the inbox of inbound deliveries with their verdicts, one delivery's headers and
body, and re-delivery (a new run from a stored delivery)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from dashboard.web import page, page_router, see_other
from shared.handlers.http import runtime
from shared.pagination.params import CursorParam
from shared.ports import Runtime
from shared.webhooks import inbox

router = page_router()
PAGE_SIZE = 25
Id = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
REDELIVERABLE = inbox.VERIFIED  # a rejected delivery never proved where it came from


@router.get("/webhooks", include_in_schema=False)
async def list_deliveries(
    request: Request,
    source_id: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")] = "",
    cursor: CursorParam = None,
    rt: Runtime = Depends(runtime),
) -> HTMLResponse:
    found = await inbox.list_(rt, PAGE_SIZE, cursor, source_id=source_id or None)
    return page(
        request,
        rt,
        "webhooks.html",
        {
            "deliveries": found.items,
            "next_cursor": found.next_cursor,
            "source_id": source_id,
            "filtered": bool(source_id or cursor),
            "redeliverable": REDELIVERABLE,
        },
    )


@router.get("/webhooks/{delivery_id}", include_in_schema=False)
async def show_delivery(
    request: Request, delivery_id: Id, rt: Runtime = Depends(runtime)
) -> HTMLResponse:
    delivery = await inbox.get(rt, delivery_id)
    return page(
        request,
        rt,
        "webhook.html",
        {"delivery": delivery, "redeliverable": REDELIVERABLE},
    )


@router.post("/webhooks/{delivery_id}/redeliver", include_in_schema=False)
async def redeliver(delivery_id: Id, rt: Runtime = Depends(runtime)) -> Response:
    outcome = await inbox.redeliver(rt, delivery_id)
    return see_other(f"/webhooks/{outcome.receipt.delivery}", "redelivered")

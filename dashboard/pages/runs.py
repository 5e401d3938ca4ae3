"""Runs: the list with filters, and one run's per-stage timeline, counts and failures."""

from __future__ import annotations

from typing import Literal

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from dashboard.queries.documents import source_names
from dashboard.queries.runs import failures, timeline
from dashboard.web import page, page_router, see_other
from shared import runs
from shared.handlers.http import runtime
from shared.pagination.params import CursorParam
from shared.ports import Runtime
from shared.repo import runs as run_reads

router = page_router()
PAGE_SIZE = 25
State = Literal["", "queued", "running", "succeeded", "failed", "cancelled"]


@router.get("/runs", include_in_schema=False)
async def list_runs(
    request: Request,
    state: State = "",
    source_id: str = "",
    cursor: CursorParam = None,
    rt: Runtime = Depends(runtime),
) -> HTMLResponse:
    found = await run_reads.list_(
        rt, PAGE_SIZE, cursor, source_id=source_id or None, state=state or None
    )
    return page(
        request,
        rt,
        "runs.html",
        {
            "runs": found.items,
            "next_cursor": found.next_cursor,
            "state": state,
            "source_id": source_id,
            "states": run_reads.STATES,
            "sources": await source_names(rt),
            "filtered": bool(state or source_id or cursor),
        },
        refresh=10,
    )


@router.get("/runs/{run_id}", include_in_schema=False)
async def show_run(request: Request, run_id: str, rt: Runtime = Depends(runtime)) -> HTMLResponse:
    run = await run_reads.get(rt, run_id)
    return page(
        request,
        rt,
        "run.html",
        {
            "run": run,
            "timeline": await timeline(rt, run_id),
            "failures": await failures(rt, run_id),
        },
        refresh=5 if run.state in ("queued", "running") else None,
    )


@router.post("/runs/{run_id}/cancel", include_in_schema=False)
async def cancel_run(run_id: str, rt: Runtime = Depends(runtime)) -> Response:
    await runs.cancel(rt, run_id)
    return see_other(f"/runs/{run_id}", "cancelled")

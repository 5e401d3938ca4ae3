"""Overview: runs in progress, documents per minute, error rate and work waiting per stage."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from dashboard.figures import process_queue_depths
from dashboard.queries.overview import WINDOW_MIN, overview
from dashboard.web import page, page_router
from shared.handlers.http import runtime
from shared.ports import Runtime
from shared.repo import documents

router = page_router()


@router.get("/", include_in_schema=False)
async def show(request: Request, rt: Runtime = Depends(runtime)) -> HTMLResponse:
    figures = await overview(rt)
    recent = await documents.list_(rt, 10, None)
    return page(
        request,
        rt,
        "overview.html",
        {
            "o": figures,
            "window": WINDOW_MIN,
            "documents": recent.items,
            "queued": process_queue_depths(),
        },
        refresh=10,
    )

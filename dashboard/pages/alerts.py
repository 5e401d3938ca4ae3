"""Alerts: what Prometheus's rules report firing now, as Alertmanager delivered it."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from dashboard.web import page, page_router
from shared.handlers.http import runtime
from shared.observability import alerts
from shared.ports import Runtime

router = page_router()
REFRESH_S = 10


@router.get("/alerts", include_in_schema=False)
async def list_alerts(request: Request, rt: Runtime = Depends(runtime)) -> HTMLResponse:
    firing = await alerts.firing(rt)
    return page(request, rt, "alerts.html", {"alerts": firing.items}, refresh=REFRESH_S)

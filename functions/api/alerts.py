"""Alerts API: Alertmanager's webhook receiver, and the alerts firing now."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header
from mangum import Mangum
from starlette.middleware import Middleware

from shared.handlers.http import TEXT_MIME_TYPES, create_app, runtime
from shared.observability import alerts
from shared.observability.alerts import AlertList, Notification, Received, TokenGate
from shared.ports import Runtime

RECEIVER = "/api/v1/alerts"
# The token is checked before the body is read (and checked again by the route).
app = create_app("alerts", title="alerts", gates=[Middleware(TokenGate, path=RECEIVER)])


@app.post(RECEIVER)
async def receive_alerts(
    body: Notification,
    authorization: Annotated[str | None, Header()] = None,
    rt: Runtime = Depends(runtime),
) -> Received:
    """Alertmanager's webhook: `Authorization: Bearer <QUARRY_ALERTS_TOKEN>`."""
    alerts.check_token(rt.settings.alerts_token.get_secret_value(), authorization)
    return await alerts.store(rt, body)


# The API-key gate (shared.auth) lets this route through: it checks its own bearer token.
setattr(receive_alerts, "quarry_scope", "public")  # noqa: B010


@app.get("/api/v1/alerts")
async def list_alerts(rt: Runtime = Depends(runtime)) -> AlertList:
    """Alerts firing now, newest first."""
    return await alerts.firing(rt)


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

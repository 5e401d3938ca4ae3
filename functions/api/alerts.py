"""Alerts API: Alertmanager's webhook receiver, and the alerts firing now."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header
from mangum import Mangum
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.errors import QuarryError
from shared.handlers.http import TEXT_MIME_TYPES, create_app, problem_response, runtime
from shared.observability import alerts
from shared.observability.alerts import AlertList, Notification, Received
from shared.ports import Runtime, current

RECEIVER = "/api/v1/alerts"


class TokenGate:
    """POST /api/v1/alerts without the alerts token is refused before its body is read, so
    a stranger's request costs a header comparison, never a parse of up to 1,000 alerts."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == self.path:
            given = dict(scope.get("headers", [])).get(b"authorization", b"")
            try:
                alerts.check_token(
                    current().settings.alerts_token.get_secret_value(), given.decode("latin-1")
                )
            except QuarryError as exc:
                refusal = problem_response(exc.status, exc.detail, slug=exc.slug, title=exc.title)
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


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

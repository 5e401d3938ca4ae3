"""HTTP functions: a FastAPI app with problem+json errors and the invocation wrapper.

Wrap it as `handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)`; the same
app also answers direct ASGI calls, and both paths give the same answers.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import composition  # noqa: F401  (a Lambda environment builds its runtime there)
from shared.auth.middleware import AuthMiddleware
from shared.db import routing
from shared.errors import QuarryError, UnavailableError
from shared.handlers.invocation import flush_in_lambda, invocation
from shared.logs import get_logger, request_id_var
from shared.observability.emf import HttpOutcome
from shared.outages import QUEUE_OUTAGES, as_unavailable
from shared.ports import Runtime, current
from shared.problems import MEDIA_TYPE, problem

log = get_logger("quarry.http")
# Every text type Quarry answers with comes back from Lambda as text (`isBase64Encoded: false`),
# anything else as base64. Mangum looks for each entry inside the content-type, so `+json` and
# `+xml` cover problem+json, SVG and feeds; `text/` covers HTML, CSV, Markdown and CSS.
TEXT_MIME_TYPES = [
    "text/",
    "application/json",
    "+json",
    "application/xml",
    "+xml",
    "application/javascript",
    "application/vnd.oai.openapi",
]
_RID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
LSN_HEADER = b"x-quarry-lsn"
LSN_COOKIE = "quarry_lsn"
LSN_MAX_AGE_S = 60


def runtime() -> Runtime:
    """FastAPI dependency: the installed runtime."""
    return current()


def request_id_of(scope: Scope) -> str:
    """The caller's X-Request-Id if well formed, else the Lambda request id, else new."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = bytes(value).decode("latin-1")
            if _RID.match(text):
                return text
    ctx = scope.get("aws.context")
    rid: object = getattr(ctx, "aws_request_id", None)
    return str(rid) if rid else str(uuid.uuid4())


def lsn_token_of(scope: Scope) -> int | None:
    """The client's read-your-writes token: the X-Quarry-Lsn header, else the quarry_lsn cookie;
    None when absent or malformed (a bad token only costs freshness, never an error)."""
    headers = scope.get("headers", [])
    for name, value in headers:
        if name == LSN_HEADER:
            return routing.parse_lsn(bytes(value).decode("latin-1").strip())
    for name, value in headers:
        if name == b"cookie":
            for pair in bytes(value).decode("latin-1").split(";"):
                key, _, text = pair.strip().partition("=")
                if key == LSN_COOKIE:
                    return routing.parse_lsn(text.strip())
    return None


def lsn_headers(lsn: int) -> list[tuple[bytes, bytes]]:
    """Response headers handing a write's position back, for the client's next reads."""
    token = routing.format_lsn(lsn)
    cookie = f"{LSN_COOKIE}={token}; Max-Age={LSN_MAX_AGE_S}; Path=/; HttpOnly; SameSite=Lax"
    return [(LSN_HEADER, token.encode()), (b"set-cookie", cookie.encode())]


def problem_response(
    status: int, detail: str, *, slug: str | None = None, title: str | None = None, **extra: Any
) -> JSONResponse:
    body = problem(status, detail, request_id_var.get() or "", slug=slug, title=title, **extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


class InvocationMiddleware:
    """Outermost boundary: request id, metrics, read-your-writes tokens (in: X-Quarry-Lsn or the
    quarry_lsn cookie; out: both, when the handler wrote), and the one place an unexpected error
    is logged (once) and answered with a 500 problem carrying the request id."""

    def __init__(self, app: ASGIApp, function: str, routes: list[BaseRoute] | None = None) -> None:
        self.app = app
        self.function = function
        self.routes = routes or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                inv.outcome = "error" if status >= 500 else "success"
                inv.http = HttpOutcome(scope["method"], route_of(self.routes, scope), status)
                headers = [*message.get("headers", []), (b"x-request-id", rid.encode())]
                if written.lsn is not None:
                    headers += lsn_headers(written.lsn)
                message["headers"] = headers
            await send(message)

        with (
            routing.request_scope(lsn_token_of(scope)) as written,
            invocation(self.function, "http", rid) as inv,
        ):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                outage = as_unavailable(exc)
                if outage is None:
                    log.exception("unhandled error")
                else:
                    log.warning(outage.detail, extra={"error": f"{type(exc).__name__}: {exc}"})
                if started:
                    raise
                if outage is not None:
                    response = _outage_response(outage)
                else:
                    response = problem_response(
                        500,
                        "an unexpected error occurred; quote the request id when reporting it",
                        slug="internal",
                    )
                await response(scope, receive, send_with_id)
        await flush_in_lambda()


def route_of(routes: list[BaseRoute], scope: Scope) -> str:
    """The template of the route a request matched (`/api/v1/runs/{run_id}`), so metrics get
    one series per route rather than one per id; "unmatched" for anything else."""
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "unmatched"))
    return "unmatched"


def _outage_response(exc: UnavailableError) -> JSONResponse:
    response = problem_response(exc.status, exc.detail, slug=exc.slug, title=exc.title)
    response.headers.update(exc.extra.get("headers") or {})
    return response


async def _outage_error(request: Request, exc: Exception) -> Response:
    """A dependency outage, answered by the app's own QuarryError handler (the API's problem
    document, the dashboard's page) as the 503 it is."""
    outage = as_unavailable(exc)
    if outage is None:
        raise exc
    log.warning(outage.detail, extra={"error": f"{type(exc).__name__}: {exc}"})
    handler = request.app.exception_handlers.get(QuarryError, _quarry_error)
    response: Response = await handler(request, outage)
    return response


async def _quarry_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QuarryError)
    extra = {k: v for k, v in exc.extra.items() if k != "headers"}
    response = problem_response(exc.status, exc.detail, slug=exc.slug, title=exc.title, **extra)
    response.headers.update(exc.extra.get("headers") or {})  # e.g. Retry-After
    return response


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"path": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
    return problem_response(422, detail, slug="validation", errors=json.loads(json.dumps(errors)))


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    response = problem_response(exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def create_app(
    function: str, *, title: str, description: str = "", gates: Sequence[Middleware] = ()
) -> FastAPI:
    """A FastAPI app for one HTTP function, with the platform's error shape and metrics;
    `gates` run inside the API-key gate, before the route reads its body."""
    app = FastAPI(
        title=title, description=description, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.add_exception_handler(QuarryError, _quarry_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for outage in (DBAPIError, PoolTimeoutError, *QUEUE_OUTAGES):
        app.add_exception_handler(outage, _outage_error)
    for gate in reversed(gates):
        app.add_middleware(gate.cls, *gate.args, **gate.kwargs)
    app.add_middleware(AuthMiddleware, router=app.router)  # inside the invocation boundary
    app.add_middleware(InvocationMiddleware, function=function, routes=app.router.routes)
    return app

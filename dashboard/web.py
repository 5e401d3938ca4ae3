"""What every page shares: login and CSRF checks, HTML error pages and security headers.

`page_router()` gives a page module its APIRouter: every route on it requires a login when one
is configured, POST routes also need the form's CSRF token, and an unexpected error becomes
the 500 page with the request id (logged once here).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard import sessions
from dashboard.forms import read_form
from dashboard.render import render, secret
from shared.auth import sessions as stored_sessions
from shared.errors import QuarryError, UnavailableError
from shared.handlers.http import problem_response, runtime
from shared.logs import get_logger, request_id_var
from shared.outages import as_unavailable
from shared.page_headers import PAGE_HEADERS
from shared.ports import Runtime

log = get_logger("quarry.dashboard")

SECURITY_HEADERS = tuple((name.encode(), value.encode()) for name, value in PAGE_HEADERS)
TITLES = {
    400: "Bad request",
    401: "Login required",
    403: "Forbidden",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Check the form",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Service unavailable",
}


class LoginRequiredError(QuarryError):
    status = 401
    title = "Login required"
    slug = "login-required"


class CsrfError(QuarryError):
    status = 403
    title = "Form expired"
    slug = "csrf"


async def user_of(request: Request, rt: Runtime) -> str | None:
    """The logged-in user, "" when login is off, None when login is on and nobody is in."""
    if rt.settings.dashboard_password_hash is None:
        return ""
    token = request.cookies.get(sessions.SESSION_COOKIE)
    session = await stored_sessions.read_session(rt.db, rt.settings, token)
    return session.user if session else None


async def require_login(request: Request, rt: Runtime = Depends(runtime)) -> str:
    user = await user_of(request, rt)
    if user is None:
        raise LoginRequiredError("log in to see this page")
    request.state.user = user
    return user


async def check_csrf(request: Request, rt: Runtime = Depends(runtime)) -> None:
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    form = await read_form(request)
    cookie = request.cookies.get(sessions.CSRF_COOKIE)
    if not sessions.is_valid_csrf(secret(rt.settings), cookie, form.get(sessions.CSRF_FIELD)):
        raise CsrfError(
            "the form's security token is missing or does not match this browser; "
            "reload the page and submit the form again"
        )


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    rt = _runtime_or_none()
    if rt is None:  # no runtime (misconfiguration): a bare page still says what happened
        return HTMLResponse(f"<!doctype html><title>{status}</title><h1>{status}</h1>", status)
    return render(
        request,
        rt.settings,
        "error.html",
        {
            "status": status,
            "title": TITLES.get(status, "Error"),
            "detail": detail,
            "request_id": request_id_var.get() or "",
        },
        status=status,
        user=getattr(request.state, "user", None),
    )


def _runtime_or_none() -> Runtime | None:
    try:
        return runtime()
    except QuarryError:
        return None


async def quarry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, QuarryError)
    if isinstance(exc, LoginRequiredError):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    status = exc.status if exc.status < 500 else 500
    if isinstance(exc, UnavailableError):  # a dependency down (see as_unavailable): come back
        status = 503
    if status == 500:
        log.error("dashboard error: %s", exc.detail)
    response = error_page(request, status, exc.detail if status != 500 else _OOPS)
    retry = exc.extra.get("retry_after")
    if isinstance(retry, int):
        response.headers["retry-after"] = str(retry)
    response.headers.update(exc.extra.get("headers") or {})
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404 and request.url.path.startswith("/api/"):
        # The catch-all route also receives unknown API paths: answer them as the API would.
        return problem_response(404, f"no API route matches {request.url.path}")
    detail = {404: f"there is no page at {request.url.path}"}.get(exc.status_code)
    if detail is None:
        detail = exc.detail if isinstance(exc.detail, str) else "the request failed"
    response = error_page(request, exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'][1:])}: {err['msg']}" for err in exc.errors()
    )
    return error_page(request, 400, f"the address has a bad value: {detail}")


_OOPS = "an unexpected error occurred; quote the request id below when reporting it"
Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class PageRoute(APIRoute):
    """A page route: an unexpected error is logged once and answered with the 500 page."""

    def get_route_handler(self) -> Endpoint:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except (QuarryError, HTTPException, RequestValidationError):
                raise
            except Exception as exc:  # the page boundary, like the runtime's middleware
                outage = as_unavailable(exc)
                if outage is not None:  # the database or queue is down: the 503 page
                    raise outage from exc
                log.exception("unhandled error in a dashboard page")
                return error_page(request, 500, _OOPS)

        return handler


def page_router(*, login: bool = True) -> APIRouter:
    """The router a page module declares its routes on."""
    deps = [Depends(require_login), Depends(check_csrf)] if login else [Depends(check_csrf)]
    return APIRouter(route_class=PageRoute, dependencies=deps)


class SecurityHeaders:
    """Every response carries the CSP (no inline script) and the other browser hardening."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


NOTICES = {
    "created": "Source created.",
    "saved": "Source saved.",
    "deleted": "Source deleted.",
    "started": "Run started.",
    "cancelled": "Run cancelled.",
    "replayed": "Message sent to its stage again.",
    "discarded": "Dead letter discarded.",
    "redelivered": "Delivery processed again: a new run started.",
    "logged-out": "You are logged out.",
}


def page(
    request: Request,
    rt: Runtime,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    refresh: int | None = None,
) -> HTMLResponse:
    """A page for the logged-in user, with the notice a redirect after a form asked for."""
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return render(
        request,
        rt.settings,
        template,
        {"notice": notice, **context},
        status=status,
        user=getattr(request.state, "user", None),
        refresh=refresh,
    )


def see_other(path: str, notice: str | None = None) -> RedirectResponse:
    """Post/redirect/get: a form's answer sends the browser to a page to show."""
    return RedirectResponse(path + (f"?notice={notice}" if notice else ""), status_code=303)

"""Templates: one autoescaping Jinja2 environment, the layout's context, and HTML responses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from dashboard import sessions
from dashboard.assets import static_url
from dashboard.markdown import render_markdown
from dashboard.nav import NAV, current
from shared.auth.keys import is_enabled
from shared.config import Settings

TEMPLATES = Path(__file__).parent / "templates"


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return value.astimezone(UTC).strftime(fmt) if value is not None else "–"


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def count(value: float | int | None) -> str:
    """A count that may be a share (an invocation split between runs): whole numbers as
    such, fractions to two places."""
    if value is None:
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def query(request: Request, **changes: str | None) -> str:
    """The current page's query string with `changes` applied (None removes a key)."""
    params = {k: v for k, v in request.query_params.items() if k not in changes}
    params.update({k: v for k, v in changes.items() if v is not None})
    return "?" + urlencode(params) if params else "?"


def http_url(value: str | None) -> bool:
    """Whether a crawled URL may become a link: http(s) only, never javascript: or data:."""
    return bool(value) and str(value).lower().startswith(("http://", "https://"))


env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html", "svg"), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals.update(static_url=static_url, nav=NAV, query=query)
env.filters.update(
    markdown=render_markdown, when=when, number=number, count=count, http_url=http_url
)


def secret(settings: Settings) -> bytes:
    return settings.secret_key.get_secret_value().encode()


def is_secure(request: Request) -> bool:
    """Cookies are Secure except for a loopback host (quarry dev, quarry up, the tests), which
    is reached over plain HTTP where browsers and clients would drop them."""
    host = (request.headers.get("host") or "").lower().rsplit(":", 1)[0].strip("[]")
    return host not in ("127.0.0.1", "localhost", "::1")


def set_cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def render(
    request: Request,
    settings: Settings,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    user: str | None = None,
    refresh: int | None = None,
) -> HTMLResponse:
    """A page in the layout, with its CSRF token (and cookie, the first time)."""
    cookie = request.cookies.get(sessions.CSRF_COOKIE)
    fresh = None
    if not cookie or len(cookie) > 256:
        cookie = fresh = sessions.new_csrf_cookie()
    page = {
        "request": request,
        "here": current(request.url.path),
        "csrf_field": sessions.CSRF_FIELD,
        "csrf": sessions.csrf_token(secret(settings), cookie),
        "auth_on": settings.dashboard_password_hash is not None,
        "api_auth_on": is_enabled(settings),  # QUARRY_API_AUTH, for the banner
        "user": user,
        "refresh": refresh,
        **context,
    }
    html = env.get_template(template).render(page)
    response = HTMLResponse(html, status_code=status)
    if fresh is not None:
        set_cookie(response, request, sessions.CSRF_COOKIE, fresh, 7 * 24 * 3600)
    return response

"""The API's gate: which scope each route needs, the key check and the rate limit.

It runs inside the invocation boundary (request ids, metrics) and before the route reads
its body, so a request without the right key costs nothing but this check. Only paths
under /api/ are gated; /api/v1/health and routes marked public (signed webhooks) need no key,
and every request, refused ones included, counts against a rate limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from fastapi.responses import JSONResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.auth.keys import Principal, authenticate, is_enabled, known, presented
from shared.auth.keys import Scope as KeyScope
from shared.config import Settings
from shared.logs import request_id_var
from shared.net import forwarded_client, networks
from shared.ports import current
from shared.problems import MEDIA_TYPE, problem
from shared.ratelimit import limiter_for

Needed = KeyScope | Literal["public"]
F = TypeVar("F", bound=Callable[..., Any])
PUBLIC_PATHS = frozenset({"/api/v1/health"})
ATTRIBUTE = "quarry_scope"


def requires(scope: Needed) -> Callable[[F], F]:
    """Mark a route with the scope it needs (default: `read` for GET and HEAD, `write`
    otherwise); `public` routes authenticate their callers themselves."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, ATTRIBUTE, scope)
        return endpoint

    return mark


def needed_scope(method: str, endpoint: object) -> Needed:
    marked: Needed | None = getattr(endpoint, ATTRIBUTE, None)
    if marked is not None:
        return marked
    return "read" if method in ("GET", "HEAD") else "write"


def client_address(scope: Scope, settings: Settings) -> str:
    """Who is calling, for rate limits: the peer, or behind a trusted proxy (the stack's
    nginx) the address it reported in X-Forwarded-For, which a client cannot forge."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    forwarded = [v for k, v in scope.get("headers", []) if k == b"x-forwarded-for"]
    header = b",".join(forwarded).decode("latin-1") if forwarded else None
    return forwarded_client(peer, header, networks(settings.trusted_proxies))


def _refusal(status: int, title: str, detail: str, **headers: str) -> JSONResponse:
    body = problem(status, detail, request_id_var.get() or "", title=title)
    response = JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)
    response.headers.update(headers)
    return response


class AuthMiddleware:
    """Checks the API key against the route's scope, then the caller's rate limit."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    def _endpoint(self, scope: Scope) -> object | None:
        for route in self.router.routes:
            match, child = route.matches(scope)
            if match == Match.FULL:
                return child.get("endpoint")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        endpoint = self._endpoint(scope)
        if endpoint is None:  # 404 or 405: the app says which
            await self.app(scope, receive, send)
            return
        settings = current().settings
        needed = "public" if path in PUBLIC_PATHS else needed_scope(scope["method"], endpoint)
        address = f"ip:{client_address(scope, settings)}"
        principal: Principal | None = None
        if needed != "public" and is_enabled(settings):
            refused, principal = await self._authorize(scope, needed, settings, address)
            if refused is not None:
                await refused(scope, receive, send)
                return
        who = f"key:{principal.key_id}" if principal else address
        throttled = await _throttled(settings, who)
        if throttled is not None:
            await throttled(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _authorize(
        self, scope: Scope, needed: KeyScope, settings: Settings, address: str
    ) -> tuple[JSONResponse | None, Principal | None]:
        """A refusal (401, 403, or 429 when the address has used up its tries), or the
        principal. A key not known to be good is paid for from the caller's address bucket
        before the database is asked, so wrong keys are rate-limited like any request."""
        challenge = {"www-authenticate": 'Bearer realm="quarry"'}
        key = presented(scope.get("headers", []))
        principal = known(settings, key) if key is not None else None
        if principal is None:
            throttled = await _throttled(settings, address)
            if throttled is not None:
                return throttled, None
            if key is None:
                detail = (
                    "this operation needs an API key: send `Authorization: Bearer <key>` or "
                    "`X-Api-Key: <key>` (create keys with `quarry keys create`)"
                )
                return _refusal(401, "Unauthorized", detail, **challenge), None
            principal = await authenticate(current().db, settings, key)
            if principal is None:
                detail = "the API key is not valid: it is unknown or was revoked"
                return _refusal(401, "Unauthorized", detail, **challenge), None
        if not principal.allows(needed):
            detail = (
                f"the API key's scope `{principal.scope}` does not allow this operation; "
                f"it needs `{needed}`"
            )
            return _refusal(403, "Forbidden", detail), principal
        return None, principal


async def _throttled(settings: Settings, who: str) -> JSONResponse | None:
    """A 429 when `who` has no token left in its bucket, else None (and one token taken)."""
    if settings.rate_limit_per_s <= 0:
        return None
    limiter = limiter_for(settings)
    decision = await limiter.take(who, settings.rate_limit_per_s, settings.rate_limit_burst)
    if decision.allowed:
        return None
    return _refusal(
        429,
        "Too many requests",
        f"rate limit of {settings.rate_limit_per_s:g} requests per second reached; "
        f"retry after {decision.retry_after} s",
        **{"retry-after": decision.retry_after},
    )

"""The API's gate: which scope each route needs, the key check and the rate limit.

It runs inside the invocation boundary (request ids, metrics) and before the route reads
its body, so a request without the right key costs nothing but this check. Only paths
under /api/ are gated; /api/v1/health and routes marked public (signed webhooks) need no key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from fastapi.responses import JSONResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.auth.keys import Principal, authenticate, is_enabled, presented
from shared.auth.keys import Scope as KeyScope
from shared.config import Settings
from shared.logs import request_id_var
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
    """Who is calling, for rate limits: behind the stack's nginx, the address nginx saw
    (the last X-Forwarded-For entry, which a client cannot forge); else the peer."""
    if settings.env == "stack":
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                last: str = value.decode("latin-1").rsplit(",", 1)[-1].strip()
                if last:
                    return last
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


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
        if scope["type"] != "http" or not path.startswith("/api/") or path in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        endpoint = self._endpoint(scope)
        if endpoint is None:  # 404 or 405: the app says which
            await self.app(scope, receive, send)
            return
        settings = current().settings
        principal: Principal | None = None
        needed = needed_scope(scope["method"], endpoint)
        if needed != "public" and is_enabled(settings):
            refused, principal = await self._authorize(scope, needed, settings)
            if refused is not None:
                await refused(scope, receive, send)
                return
        if settings.rate_limit_per_s > 0:
            who = (
                f"key:{principal.key_id}" if principal else f"ip:{client_address(scope, settings)}"
            )
            limiter = limiter_for(settings)
            decision = await limiter.take(who, settings.rate_limit_per_s, settings.rate_limit_burst)
            if not decision.allowed:
                refusal = _refusal(
                    429,
                    "Too many requests",
                    f"rate limit of {settings.rate_limit_per_s:g} requests per second reached; "
                    f"retry after {decision.retry_after} s",
                    **{"retry-after": decision.retry_after},
                )
                await refusal(scope, receive, send)
                return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _authorize(
        self, scope: Scope, needed: KeyScope, settings: Settings
    ) -> tuple[JSONResponse | None, Principal | None]:
        challenge = {"www-authenticate": 'Bearer realm="quarry"'}
        key = presented(scope.get("headers", []))
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

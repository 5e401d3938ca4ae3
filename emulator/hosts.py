"""The Host check of `quarry dev`: it serves this machine only, so a request naming any other
host is refused. A page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) would
otherwise reach the dashboard and the API with the browser's cookies."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.handlers.http import problem_response

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class LoopbackHosts:
    """Answers 421 to a request whose Host is not a loopback name with the served port."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.allowed = frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES) | (
            frozenset(LOOPBACK_NAMES) if port == 80 else frozenset()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1").lower()
            if host not in self.allowed:
                detail = (
                    f"this server is quarry dev on this machine and does not answer for host "
                    f"{host[:100]!r}; use http://{sorted(self.allowed)[0]}/ (other names are "
                    "refused against DNS rebinding)"
                )
                refusal = problem_response(421, detail, slug="host", title="Misdirected request")
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

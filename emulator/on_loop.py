"""A Mangum handler invoked on the running event loop: the same translation as
`handler(event, context)` (the event's scope and body in, the Lambda result out), without the
thread and the loop of its own that Mangum's synchronous entry needs.

Mangum's `__call__` runs the app with `loop.run_until_complete`, so a caller already on a
loop has to hand it to another thread. Here the same pieces, Mangum's event handler
(`infer`) and its `HTTPCycle`, run as a coroutine: one invocation is one task on the
caller's loop, and cancelling it (the function's timeout) stops the function, as Lambda
stopping an execution environment does, instead of leaving a thread running on.
"""

from __future__ import annotations

from typing import Any

from mangum import Mangum
from mangum.protocols.http import HTTPCycle
from mangum.types import ASGI, Receive, Scope, Send


def runs_on_loop(handler: Any) -> bool:
    """Whether `handler` can be invoked with `invoke_on_loop`: a Mangum handler without a
    lifespan (Mangum's lifespan cycle runs a loop of its own; every Quarry function turns
    it off)."""
    return isinstance(handler, Mangum) and handler.lifespan == "off"


async def invoke_on_loop(handler: Mangum, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """What `handler(event, context)` returns, computed on the running loop."""
    adapter = handler.infer(event, context)
    cycle = _Cycle(adapter.scope, adapter.body)
    await cycle.run(handler.app)
    result: dict[str, Any] = adapter(
        {"status": cycle.status, "headers": cycle.headers, "body": cycle.body}
    )
    return result


class _Cycle(HTTPCycle):
    """Mangum's HTTP cycle, less its catch of BaseException: cancellation propagates (Mangum
    would answer it with a 500 and swallow it); an exception still gets Mangum's answer."""

    async def run(self, app: ASGI) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except Exception as exc:
            failed = exc

            async def again(scope: Scope, receive: Receive, send: Send) -> None:
                raise failed

            await super().run(again)  # Mangum's own logging and 500 for the state reached

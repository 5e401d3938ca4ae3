"""The local API gateway: routes by the table's httpApi events and invokes handlers with
the API Gateway event (or, for speed, the app's ASGI interface directly). A Mangum handler
translates the event on the gateway's own loop (emulator/on_loop.py); only synchronous
handlers, and the Lambda service's client, take a thread of the executor."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Message, Receive, Scope, Send

from emulator.execution.client import FunctionError, ThrottledError
from emulator.on_loop import invoke_on_loop, runs_on_loop
from emulator.routing import Match, Router
from emulator.table import Table, load_handler
from shared import metrics
from shared.handlers.context import LambdaContext
from shared.handlers.loop import thread_loop
from shared.lambda_events.http import HttpRequest, apigw_v2, from_result
from shared.logs import get_logger
from shared.ports import current
from shared.problems import MEDIA_TYPE, problem_bytes

log = get_logger("quarry.gateway")
Mode = Literal["event", "asgi"]
INTEGRATION_TIMEOUT_S = 30.0  # API Gateway HTTP API's longest wait for a Lambda integration
# HTTP invocations one gateway process runs at once; more wait their turn
GATEWAY_CONCURRENCY = 16


def _problem(status: int, detail: str, rid: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("content-type", MEDIA_TYPE)], problem_bytes(status, detail, rid)


class Gateway:
    """An ASGI app standing in for API Gateway in front of every HTTP function."""

    def __init__(
        self,
        table: Table,
        mode: Mode = "event",
        concurrency: int = GATEWAY_CONCURRENCY,
        max_body_bytes: int | None = None,
        handlers: Mapping[str, Any] | None = None,
    ) -> None:
        """`max_body_bytes` None reads QUARRY_MAX_BODY_BYTES from the installed runtime.
        `handlers` are the functions' handlers when they run elsewhere (execution
        environments, emulator/execution): they count their own concurrency then.
        `concurrency` bounds the invocations running at once (each in an execution
        environment of its own in Lambda): Mangum handlers run as tasks on the loop, each
        holding at most one of the loop's database connections, so the process sizes its pool
        from it; synchronous handlers (and remote calls) take a thread of as many."""
        self.table = table
        self.mode = mode
        self.max_body_bytes = max_body_bytes
        self.router = Router(table.http())
        self.remote = handlers is not None
        self.handlers: dict[str, Any] = dict(handlers or {})
        for fn in table.http():
            if fn.name not in self.handlers:
                self.handlers[fn.name] = load_handler(fn)[0]
        self.executor = ThreadPoolExecutor(concurrency, "lambda", initializer=thread_loop)
        self.on_loop = asyncio.Semaphore(concurrency)

    async def _on_loop(self, handler: Any, event: dict[str, Any], context: Any) -> Any:
        async with self.on_loop:
            return await invoke_on_loop(handler, event, context)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        builtin = self._builtin(path)
        if builtin is not None:
            await _respond(send, *builtin)
            return
        match = self.router.match(scope["method"], path)
        if match is None:
            rid = str(uuid.uuid4())
            allowed = self.router.allowed(path)
            if allowed:
                status, headers, body = _problem(
                    405, f"{scope['method']} is not routed for {path}", rid
                )
                headers.append(("allow", ", ".join(allowed)))
            else:
                status, headers, body = _problem(404, f"no route for {path}", rid)
            await _respond(send, status, headers, body)
            return
        fn = match.function
        token = None
        if fn.reserved_concurrency and not self.remote:
            limiter = current().limiter
            token = await limiter.acquire(fn.name, fn.reserved_concurrency, fn.timeout + 1)
            if token is None:
                metrics.THROTTLES.labels(fn.name).inc()
                status, headers, body = _problem(
                    429,
                    f"function {fn.name} is at its reserved concurrency "
                    f"({fn.reserved_concurrency}); retry shortly",
                    str(uuid.uuid4()),
                )
                await _respond(send, status, [*headers, ("retry-after", "1")], body)
                return
        try:  # concurrent executions are counted by the invocation wrapper, on every path
            await self._invoke(match, scope, receive, send)
        finally:
            if token is not None:
                await current().limiter.release(fn.name, token)

    async def _invoke(self, match: Match, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the function within its timeout: past it, API Gateway answers 504."""
        fn = match.function
        handler = self.handlers[fn.name]
        limit = self.max_body_bytes or current().settings.max_body_bytes
        payload = await _read_body(scope, receive, limit)
        if payload is None:
            detail = f"request bodies are limited to {limit} bytes (QUARRY_MAX_BODY_BYTES)"
            await _respond(send, *_problem(413, detail, str(uuid.uuid4())))
            return
        if self.mode == "asgi" and hasattr(handler, "app"):
            started = False
            receive = _replay(payload, receive)

            async def tracking(message: Message) -> None:
                nonlocal started
                started = True
                await send(message)

            try:
                async with asyncio.timeout(fn.timeout):  # in this task: no task per request
                    await handler.app(scope, receive, tracking)
            except TimeoutError:
                metrics.TIMEOUTS.labels(fn.name).inc()
                if not started:
                    await _respond(send, *_timed_out(fn.name, fn.timeout, str(uuid.uuid4())))
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        req = HttpRequest(
            method=scope["method"],
            raw_path=bytes(raw_path).decode("latin-1"),
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body=payload,
            source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
        )
        context = LambdaContext(fn.name, timeout_s=fn.timeout, memory_limit_in_mb=fn.memory)
        event = apigw_v2(req, match.route.key, match.params, context.aws_request_id)
        call: Awaitable[Any]
        if runs_on_loop(handler):  # a Mangum handler: one task on this loop, no thread
            call = self._on_loop(handler, event, context)
        else:  # a synchronous handler (or the Lambda service's client) needs a thread
            call = asyncio.get_running_loop().run_in_executor(
                self.executor, handler, event, context
            )
        try:
            # In an execution environment Lambda enforces the function's timeout, after any
            # cold start; API Gateway waits for it up to its own integration timeout.
            waits = max(fn.timeout, INTEGRATION_TIMEOUT_S) if self.remote else fn.timeout
            async with asyncio.timeout(waits):  # in this task: no task per request
                result = await call
            response = from_result(result)
        except TimeoutError:
            # The caller gets its 504 on time, as from API Gateway. A task on the loop is
            # cancelled, as Lambda stops the environment; a synchronous handler's thread runs
            # on (a thread cannot be killed).
            metrics.TIMEOUTS.labels(fn.name).inc()
            log.error("Task timed out after %.2f seconds", fn.timeout)
            response = _timed_out(fn.name, fn.timeout, context.aws_request_id)
        except FunctionError as exc:  # in an execution environment: Lambda's error, as is
            log.error("function %s failed: %s", fn.name, exc, extra={"error_type": exc.error_type})
            if exc.timed_out:
                response = _timed_out(fn.name, fn.timeout, context.aws_request_id)
            else:
                response = _problem(
                    502,
                    f"function {fn.name} failed ({exc.error_type}); see its logs",
                    context.aws_request_id,
                )
        except ThrottledError:
            response = _problem(
                429,
                f"function {fn.name} is at its reserved concurrency "
                f"({fn.reserved_concurrency}); retry shortly",
                context.aws_request_id,
            )
            response[1].append(("retry-after", "1"))
        except Exception:  # the function crashed: API Gateway answers 502, and so do we
            log.exception("function %s failed", fn.name)
            response = _problem(
                502,
                f"function {fn.name} failed; see its logs",
                context.aws_request_id,
            )
        await _respond(send, *response)

    def _builtin(self, path: str) -> tuple[int, list[tuple[str, str]], bytes] | None:
        if path == "/metrics":
            return 200, [("content-type", CONTENT_TYPE_LATEST)], generate_latest()
        return None


def _timed_out(function: str, timeout: float, rid: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return _problem(504, f"function {function} timed out after {timeout:.2f} seconds", rid)


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to exceed `limit` bytes."""
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            return None
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body"):
            return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then waits for disconnect."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _respond(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    if not any(k == b"content-length" for k, _ in raw):
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})

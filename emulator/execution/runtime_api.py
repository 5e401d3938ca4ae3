"""The Lambda Runtime API of one execution environment, on a loopback port of its own (the
environment's AWS_LAMBDA_RUNTIME_API): `GET /2018-06-01/runtime/invocation/next` hands over
the next event, `POST .../invocation/{id}/response` and `.../error` its outcome, and
`POST /2018-06-01/runtime/init/error` a failed initialisation. HTTP/1.1 (keep-alive, as the
runtime interface client's curl uses it) with h11 over asyncio streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import h11

from shared.logs import get_logger

log = get_logger("quarry.lambda")
BASE = "/2018-06-01/runtime"
ERROR_TYPE = "lambda-runtime-function-error-type"


@dataclass(frozen=True)
class Event:
    """An invocation as the runtime receives it."""

    request_id: str
    body: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str = ""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


class Runtime(Protocol):
    """What an execution environment offers its Runtime API."""

    async def next_event(self) -> Event: ...

    def respond(self, request_id: str, body: bytes) -> bool: ...

    def fail(self, request_id: str, error: dict[str, Any], error_type: str) -> bool: ...

    def init_failed(self, error: dict[str, Any], error_type: str) -> None: ...


def _json(status: int, payload: dict[str, Any]) -> Reply:
    return Reply(status, json.dumps(payload).encode(), [("content-type", "application/json")])


def _error_of(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    return {"errorMessage": body.decode(errors="replace"), "errorType": "Runtime.Unknown"}


async def route(
    runtime: Runtime, method: str, path: str, headers: dict[str, str], body: bytes
) -> Reply:
    """One Runtime API request, answered as Lambda's Runtime API answers it."""
    if method == "GET" and path == f"{BASE}/invocation/next":
        event = await runtime.next_event()
        return Reply(
            200,
            event.body,
            [
                ("content-type", "application/json"),
                ("lambda-runtime-aws-request-id", event.request_id),
                ("lambda-runtime-deadline-ms", str(event.deadline_ms)),
                ("lambda-runtime-invoked-function-arn", event.function_arn),
                ("lambda-runtime-trace-id", event.trace_id),
            ],
        )
    if method == "POST" and path == f"{BASE}/init/error":
        error = _error_of(body)
        runtime.init_failed(error, headers.get(ERROR_TYPE) or str(error.get("errorType", "")))
        return _json(202, {"status": "OK"})
    prefix = f"{BASE}/invocation/"
    if method == "POST" and path.startswith(prefix):
        request_id, _, outcome = path[len(prefix) :].partition("/")
        if outcome == "response":
            known = runtime.respond(request_id, body)
        elif outcome == "error":
            error = _error_of(body)
            error_type = headers.get(ERROR_TYPE) or str(error.get("errorType", "Unhandled"))
            known = runtime.fail(request_id, error, error_type)
        else:
            return _json(404, {"errorMessage": f"no route {path}", "errorType": "NotFound"})
        if not known:
            return _json(
                400,
                {
                    "errorMessage": f"invalid request id {request_id}",
                    "errorType": "InvalidRequestID",
                },
            )
        return _json(202, {"status": "OK"})
    return _json(404, {"errorMessage": f"no route {method} {path}", "errorType": "NotFound"})


class RuntimeApiServer:
    """Serves one environment's Runtime API; `close()` ends its connections, so a /next that
    is still waiting when the environment is replaced returns nothing."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.server: asyncio.Server | None = None
        self.clients: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Listen on a free loopback port; returns it."""
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.clients):
            task.cancel()
        await asyncio.gather(*self.clients, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.clients.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, h11.RemoteProtocolError, asyncio.IncompleteReadError):
            pass  # the runtime went away or spoke nonsense: the connection ends
        except asyncio.CancelledError:
            pass  # close(): the environment is gone, and its waiting /next with it
        finally:
            self.clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            request: h11.Request | None = None
            body = bytearray()
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await reader.read(65536))
                elif isinstance(event, h11.Request):
                    request = event
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:  # ConnectionClosed, or PAUSED after a protocol switch
                    return
            assert request is not None
            headers = {k.decode().lower(): v.decode() for k, v in request.headers}
            path = request.target.decode().split("?", 1)[0]
            reply = await route(self.runtime, request.method.decode(), path, headers, bytes(body))
            raw = [(k, v) for k, v in reply.headers] + [("content-length", str(len(reply.body)))]
            writer.write(conn.send(h11.Response(status_code=reply.status, headers=raw)))
            writer.write(conn.send(h11.Data(data=reply.body)))
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()

"""The Lambda Runtime API's routes, answered for an in-memory runtime."""

from __future__ import annotations

import json
from typing import Any

from emulator.execution.environment import exit_reason
from emulator.execution.runtime_api import BASE, ERROR_TYPE, Event, route
from shared.dispatch.sqs import is_access_denied, queue_arn


class MemoryRuntime:
    """A runtime holding one event and recording what the Runtime API hands it."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Any] = {}
        self.init_error: tuple[dict[str, Any], str] | None = None

    async def next_event(self) -> Event:
        return Event("req-1", b'{"hello": 1}', 1_700_000_000_000, "arn:aws:lambda:f")

    def respond(self, request_id: str, body: bytes) -> bool:
        self.outcomes[request_id] = body
        return request_id == "req-1"

    def fail(self, request_id: str, error: dict[str, Any], error_type: str) -> bool:
        self.outcomes[request_id] = (error, error_type)
        return request_id == "req-1"

    def init_failed(self, error: dict[str, Any], error_type: str) -> None:
        self.init_error = (error, error_type)


async def test_runtime_api_next_hands_over_the_event_with_lambdas_headers() -> None:
    reply = await route(MemoryRuntime(), "GET", f"{BASE}/invocation/next", {}, b"")
    assert (reply.status, reply.body) == (200, b'{"hello": 1}')
    headers = dict(reply.headers)
    assert headers["lambda-runtime-aws-request-id"] == "req-1"
    assert headers["lambda-runtime-deadline-ms"] == "1700000000000"
    assert headers["lambda-runtime-invoked-function-arn"] == "arn:aws:lambda:f"


async def test_runtime_api_response_error_and_init_error_reach_the_runtime() -> None:
    runtime = MemoryRuntime()
    ok = await route(runtime, "POST", f"{BASE}/invocation/req-1/response", {}, b'"done"')
    assert ok.status == 202
    assert runtime.outcomes["req-1"] == b'"done"'
    error = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
    failed = await route(
        runtime,
        "POST",
        f"{BASE}/invocation/req-1/error",
        {ERROR_TYPE: "ValueError"},
        json.dumps(error).encode(),
    )
    assert failed.status == 202
    assert runtime.outcomes["req-1"] == (error, "ValueError")
    init = {"errorMessage": "Unable to import module 'x'", "errorType": "Runtime.ImportModuleError"}
    done = await route(runtime, "POST", f"{BASE}/init/error", {}, json.dumps(init).encode())
    assert done.status == 202
    assert runtime.init_error == (init, "Runtime.ImportModuleError")


async def test_runtime_api_unknown_request_and_route_are_refused() -> None:
    runtime = MemoryRuntime()
    stale = await route(runtime, "POST", f"{BASE}/invocation/req-9/response", {}, b"{}")
    assert stale.status == 400
    assert json.loads(stale.body)["errorType"] == "InvalidRequestID"
    lost = await route(runtime, "GET", "/2018-06-01/runtime/nowhere", {}, b"")
    assert lost.status == 404


def test_exit_reasons_read_as_lambdas() -> None:
    assert exit_reason(-9) == "signal: killed"
    assert exit_reason(1) == "exit status 1"


def test_access_denied_names_the_queue_arn() -> None:
    url = "http://127.0.0.1:5000/123456789012/quarry-dev-analytics"
    assert queue_arn(url, "us-east-1") == "arn:aws:sqs:us-east-1:123456789012:quarry-dev-analytics"
    assert queue_arn("quarry-dev-x", "us-east-1", "123") == "arn:aws:sqs:us-east-1:123:quarry-dev-x"

    class Denied(Exception):
        def __init__(self) -> None:
            super().__init__("not authorized")
            self.response = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}

    assert is_access_denied(Denied())
    assert not is_access_denied(ValueError("no queue"))

"""A Mangum handler invoked on the running loop answers as its synchronous entry does, and a
timeout cancels it there instead of turning into Mangum's 500."""

from __future__ import annotations

import asyncio
import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from mangum import Mangum
from starlette.types import Receive, Scope, Send

from emulator.on_loop import invoke_on_loop, runs_on_loop
from shared.handlers.context import LambdaContext
from shared.handlers.loop import thread_loop
from shared.lambda_events.http import HttpRequest, apigw_v2

app = FastAPI()
threads: list[str] = []
cancelled: list[str] = []


@app.post("/items/{item_id}")
async def item(item_id: str, q: str = "") -> dict[str, str]:
    threads.append(threading.current_thread().name)
    return {"item": item_id, "q": q}


@app.get("/png")
async def png() -> PlainTextResponse:
    return PlainTextResponse("\x89PNG", media_type="image/png")


@app.get("/sleep")
async def sleep() -> dict[str, bool]:
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        cancelled.append("sleep")
        raise
    return {"ok": True}


handler = Mangum(app, lifespan="off")


def event(
    method: str, path: str, route: str, params: dict[str, str], query: str = ""
) -> dict[str, Any]:
    req = HttpRequest(method, path, query, [("content-type", "application/json")], b"{}")
    return apigw_v2(req, f"{method} {route}", params, "rid-1")


def context() -> LambdaContext:
    return LambdaContext("items", timeout_s=1.0, memory_limit_in_mb=128)


async def test_on_loop_answers_as_the_synchronous_entry() -> None:
    cases = [
        event("POST", "/items/7", "/items/{item_id}", {"item_id": "7"}, "q=x"),
        event("GET", "/png", "/png", {}),
    ]
    for ev in cases:
        threads.clear()
        on_loop = await invoke_on_loop(handler, ev, context())
        with ThreadPoolExecutor(1, initializer=thread_loop) as environment:
            loop = asyncio.get_running_loop()
            in_thread = await loop.run_in_executor(environment, handler, ev, context())
        assert on_loop == in_thread
    assert on_loop["isBase64Encoded"] is True  # the binary answer, encoded as Mangum does
    assert base64.b64decode(on_loop["body"]).startswith(b"\xc2\x89PNG")


async def test_on_loop_runs_on_the_callers_thread() -> None:
    threads.clear()
    ev = event("POST", "/items/1", "/items/{item_id}", {"item_id": "1"})
    result = await invoke_on_loop(handler, ev, context())
    assert result["statusCode"] == 200
    assert threads == [threading.current_thread().name]


async def test_on_loop_timeout_cancels_the_function() -> None:
    cancelled.clear()
    call = invoke_on_loop(handler, event("GET", "/sleep", "/sleep", {}), context())
    with pytest.raises(TimeoutError):  # not Mangum's 500: the cancellation went through
        await asyncio.wait_for(call, 0.2)
    assert cancelled == ["sleep"]


async def test_on_loop_answers_an_unhandled_error_as_mangum_does() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    result = await invoke_on_loop(
        Mangum(broken, lifespan="off"), event("GET", "/x", "/x", {}), context()
    )
    assert result["statusCode"] == 500
    assert result["body"] == "Internal Server Error"


def test_runs_on_loop_only_for_mangum_without_lifespan() -> None:
    assert runs_on_loop(handler)
    assert not runs_on_loop(Mangum(app, lifespan="auto"))
    assert not runs_on_loop(lambda event, context: {"statusCode": 200})

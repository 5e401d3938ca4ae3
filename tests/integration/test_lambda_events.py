"""The recorded Lambda events of tests/events drive the real handlers in the embedded platform:
REST API (v1), HTTP API (v2), ALB and Function URL requests, an SQS batch and a schedule."""

from __future__ import annotations

import asyncio
import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from emulator.platform import Embedded
from emulator.table import load_handler
from functions.ops import ticker
from shared.handlers.context import LambdaContext
from shared.handlers.loop import thread_loop
from tests.conftest import ROOT

EVENTS = ROOT / "tests" / "events"


def recorded(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


async def invoke(platform: Embedded, function: str, event: dict[str, Any]) -> Any:
    fn = platform.table.functions[function]
    handler, _ = load_handler(fn)
    context = LambdaContext(fn.name, timeout_s=fn.timeout, memory_limit_in_mb=fn.memory)
    # one execution environment: a thread with its own event loop, as the gateway runs them
    with ThreadPoolExecutor(1, initializer=thread_loop) as environment:
        return await asyncio.get_running_loop().run_in_executor(
            environment, handler, event, context
        )


def body_of(result: dict[str, Any]) -> Any:
    """The JSON body of a handler's response (base64 only if it were binary)."""
    raw = result["body"]
    return json.loads(base64.b64decode(raw) if result.get("isBase64Encoded") else raw)


async def test_lambda_events_drive_the_http_functions(platform: Embedded) -> None:
    # one platform for every kind of HTTP event (each costs a migrated database)
    for name in ("apigw-rest-v1-get.json", "alb-get.json"):
        result = await invoke(platform, "health", recorded(name))
        assert result["statusCode"] == 200, name
        assert body_of(result) == {"status": "ok", "database": "ok"}
        assert result["headers"]["content-type"] == "application/json"

    missing = await invoke(platform, "sources", recorded("apigw-http-v2-get.json"))
    assert missing["statusCode"] == 404
    assert missing["headers"]["content-type"] == "application/problem+json"
    problem = body_of(missing)
    assert (problem["status"], problem["detail"]) == (404, "source 42 does not exist")

    docs = await invoke(platform, "docs", recorded("function-url-get.json"))
    assert docs["statusCode"] == 200
    assert docs["headers"]["content-type"] == "application/json"
    assert docs["body"] == (ROOT / "openapi.json").read_text()
    elsewhere = await invoke(platform, "docs", recorded("apigw-rest-v1-get.json"))
    assert elsewhere["statusCode"] == 404
    assert "/api/v1/health" in body_of(elsewhere)["detail"]


async def test_lambda_events_drive_the_stage_functions(platform: Embedded) -> None:
    batch = recorded("sqs-batch.json")  # bodies that are not stage messages: each reported
    assert await invoke(platform, "discovery", batch) == {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in batch["Records"]]
    }
    scheduled = await invoke(platform, "analytics", recorded("eventbridge-scheduled.json"))
    assert scheduled == {"batchItemFailures": []}


async def test_lambda_events_ticker_starts_a_due_run_once(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    idle = await invoke(platform, "ticker", recorded("eventbridge-scheduled.json"))
    assert idle == {"runs_started": 0, "relayed": 0, "dead_letters": 0, "webhook_events": 0}
    body = {"name": "ticked", "kind": "site", "url": f"{demo_site}/", "schedule": "rate(1 minute)"}
    created = await client.post("/api/v1/sources", json=body)
    assert created.status_code == 201, created.text
    due = datetime.now(UTC) + timedelta(seconds=90)  # fire times passed, as a tick sees them
    first = await ticker.tick("first", now=due)
    assert first["runs_started"] >= 1
    assert await ticker.tick("overlapping", now=due) == {
        "runs_started": 0,
        "relayed": 0,
        "dead_letters": 0,
        "webhook_events": 0,
    }
    runs = (await client.get("/api/v1/runs")).json()["items"]
    assert len(runs) == first["runs_started"]
    assert {(r["source_id"], r["trigger"]) for r in runs} == {(created.json()["id"], "schedule")}

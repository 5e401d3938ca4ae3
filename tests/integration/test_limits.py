"""Lambda limits from serverless.yml: timeouts and reserved concurrency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from emulator.platform import Embedded, embedded
from shared.config import Settings
from shared.handlers import delivery
from shared.handlers.context import LambdaContext
from shared.lambda_events.sqs import message_record
from tests.conftest import ROOT
from tests.functions import slow
from tests.integration.conftest import poll

TABLE = ROOT / "tests/functions/serverless.yml"


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[tuple[Embedded, httpx.AsyncClient]]:
    async with embedded(settings, TABLE, background=False) as platform:
        transport = httpx.ASGITransport(app=platform.gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://q.test") as client:
            yield platform, client


async def test_limits_http_timeout_answers_504_on_time(
    limited: tuple[Embedded, httpx.AsyncClient],
) -> None:
    _, client = limited
    before = REGISTRY.get_sample_value("quarry_function_timeouts_total", {"function": "slow"})
    slow.release.clear()
    completed, ended = slow.completed, slow.ended
    response = await client.get("/slow-hold")  # runs until released, far past the 1 s timeout

    async def hold_cancelled() -> bool:
        return slow.ended > ended

    # On time: the 504 came before the handler completed, so from the timeout, not its end;
    # and the timeout cancelled the handler (it ends unreleased, without completing), as
    # Lambda stops the execution environment.
    await poll("the timed-out /slow-hold handler to be cancelled", hold_cancelled)
    still_running = slow.completed == completed
    slow.release.set()
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "function slow timed out after 1.00 seconds"
    assert still_running, "the 504 waited for the handler to end instead of the timeout"
    after = REGISTRY.get_sample_value("quarry_function_timeouts_total", {"function": "slow"})
    assert (after or 0) - (before or 0) == 1
    assert (await client.get("/slow/10")).status_code == 200  # within the timeout: fine


async def test_limits_reserved_concurrency_never_exceeded(
    limited: tuple[Embedded, httpx.AsyncClient],
) -> None:
    _, client = limited
    limit = 2
    slow.peak = 0
    responses = await asyncio.gather(*(client.get("/slow/400") for _ in range(3 * limit)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) >= limit
    assert set(codes) <= {200, 429}
    throttled = [r for r in responses if r.status_code == 429]
    assert throttled
    assert all(r.headers["retry-after"] == "1" for r in throttled)
    assert "reserved concurrency (2)" in throttled[0].json()["detail"]
    assert (await client.get("/slow-stats")).json()["peak"] <= limit


async def test_limits_stage_timeout_fails_the_attempt_and_retries(
    limited: tuple[Embedded, httpx.AsyncClient],
) -> None:
    platform, _ = limited
    resent: list[dict[str, Any]] = []

    async def resend(stage: str, record: dict[str, Any]) -> None:
        resent.append(record)

    record = message_record("sleeper", {"run_id": "r-timeout"})
    error = await slow.sleeper.attempt(record, LambdaContext("sleeper", timeout_s=0.2))
    assert error == "Task timed out after 0.20 seconds"
    fates = await delivery.deliver(
        slow.sleeper,
        [record],
        runtime=platform.runtime,
        max_receive=3,
        timeout_s=0.2,
        resend=resend,
    )
    assert fates == {record["messageId"]: "retry"}
    assert resent[0]["attributes"]["ApproximateReceiveCount"] == "2"


async def test_limits_stage_waits_for_a_slot(
    limited: tuple[Embedded, httpx.AsyncClient],
) -> None:
    platform, _ = limited
    limiter = platform.runtime.limiter
    held = [await limiter.acquire("sleeper", 1, 5)]
    assert held[0] is not None
    assert await limiter.acquire("sleeper", 1, 5) is None

    async def free_soon() -> None:
        await asyncio.sleep(0.3)
        assert held[0] is not None
        await limiter.release("sleeper", held[0])

    releaser = asyncio.create_task(free_soon())
    began = time.monotonic()
    token = await delivery.wait_for_slot(limiter, "sleeper", 1, 5)
    assert time.monotonic() - began >= 0.25  # waited for the slot rather than failing
    await limiter.release("sleeper", token)
    await releaser

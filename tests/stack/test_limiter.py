"""Reserved concurrency across processes: leases in the stack's queue Redis."""

from __future__ import annotations

import asyncio

import pytest

from emulator.stack.services.ports import free_port
from emulator.stack.services.redis import RedisServer
from shared.concurrency import RedisLimiter
from tests.stack.test_services import running, scratch

pytestmark = pytest.mark.stack


async def test_limiter_leases_are_shared_and_expire() -> None:
    with scratch() as base:
        server = RedisServer(base / "redis", free_port(), "queue")
        server.prepare()
        async with running(server, base / "redis.log"):
            one, two = RedisLimiter(server.url), RedisLimiter(server.url)  # two "instances"
            results = await asyncio.gather(
                *(limiter.acquire("slow", 2, 0.5) for limiter in (one, two, one, two, one, two))
            )
            granted = [token for token in results if token is not None]
            assert len(granted) == 2  # 3x the limit at once: never more than the limit
            assert await one.acquire("slow", 2, 0.5) is None
            await two.release("slow", granted[0])
            assert await one.acquire("slow", 2, 0.5) is not None
            await asyncio.sleep(0.6)  # a crashed holder's lease expires with the timeout
            assert await two.acquire("slow", 2, 0.5) is not None
            await one.close()
            await two.close()

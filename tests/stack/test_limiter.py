"""Reserved concurrency across processes: leases in the stack's queue Redis."""

from __future__ import annotations

import asyncio
import time

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
            # Leases long enough that no stall of a loaded machine expires them here.
            results = await asyncio.gather(
                *(limiter.acquire("slow", 2, 300) for limiter in (one, two, one, two, one, two))
            )
            granted = [token for token in results if token is not None]
            assert len(granted) == 2  # 3x the limit at once: never more than the limit
            assert await one.acquire("slow", 2, 300) is None
            await two.release("slow", granted[0])
            assert await one.acquire("slow", 2, 300) is not None

            # A crashed holder's lease expires with its timeout: not before it, and then soon.
            taken = time.monotonic()
            held = [await one.acquire("crashy", 1, 1.0)]
            assert held[0] is not None
            deadline = taken + 60
            while (again := await two.acquire("crashy", 1, 1.0)) is None:
                assert time.monotonic() < deadline, "the 1 s lease never expired (60 s)"
                await asyncio.sleep(0.05)
            assert time.monotonic() - taken >= 1.0, "the lease was given again before it expired"
            assert again != held[0]
            await one.close()
            await two.close()

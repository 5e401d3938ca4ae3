"""Reserved concurrency: at most N executions of a function at once, across every process.

In-process twin for `quarry dev`; a Redis sorted set of leases in the stack, where a lease
expires after the function's timeout so a crashed process cannot hold a slot forever.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

from redis.asyncio import Redis

from shared import metrics
from shared.ports import Limiter
from shared.redis_clients import LoopRedis


class MemoryLimiter:
    """Counts executions in this process (the gateway runs handlers on several threads)."""

    def __init__(self) -> None:
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    async def acquire(self, function: str, limit: int, lease_s: float) -> str | None:
        with self._lock:
            if self._running.get(function, 0) >= limit:
                return None
            self._running[function] = self._running.get(function, 0) + 1
        return uuid.uuid4().hex

    async def release(self, function: str, token: str) -> None:
        with self._lock:
            self._running[function] = max(0, self._running.get(function, 0) - 1)


_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisLimiter:
    """Leases in a sorted set per function, scored by expiry, taken atomically by a script."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._redis = LoopRedis(url, timeout_s=None)

    def _client(self) -> Redis:
        return self._redis.get()

    async def acquire(self, function: str, limit: int, lease_s: float) -> str | None:
        token = uuid.uuid4().hex
        now = time.time()
        ok = await self._client().eval(
            _ACQUIRE,
            1,
            f"quarry:concurrency:{function}",
            now,
            limit,
            now + lease_s,
            token,
            int(lease_s * 1000) + 1000,
        )
        return token if ok else None

    async def release(self, function: str, token: str) -> None:
        await self._client().zrem(f"quarry:concurrency:{function}", token)

    async def close(self) -> None:
        """Close this loop's connection."""
        await self._redis.close()


async def wait_for_slot(
    limiter: Limiter, function: str, limit: int, lease_s: float, poll_s: float = 0.05
) -> str:
    """Stages wait for a slot instead of being throttled (SQS would hold the message)."""
    while True:
        token = await limiter.acquire(function, limit, lease_s)
        if token is not None:
            return token
        metrics.THROTTLES.labels(function).inc()
        await asyncio.sleep(poll_s)

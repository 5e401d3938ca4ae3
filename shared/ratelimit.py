"""Rate limits: a token bucket per API key or client address, behind one small port.

In-process twin for `quarry dev`; in the stack the buckets live in Redis (the cache), so the
limit holds across every API instance. A Redis outage lets requests through rather than
taking the API down with it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.config import Settings
from shared.logs import get_logger
from shared.redis_clients import LoopRedis

log = get_logger("quarry.ratelimit")


@dataclass(frozen=True)
class Decision:
    """Whether one request may proceed, and if not, how long until it would."""

    allowed: bool
    retry_after_s: float = 0.0

    @property
    def retry_after(self) -> str:
        """The Retry-After header value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after_s)))


class RateLimiter(Protocol):
    async def take(self, key: str, rate: float, burst: int) -> Decision:
        """Take one token from `key`'s bucket (refilled at `rate` per second up to `burst`)."""
        ...


def refill(tokens: float, last: float, now: float, rate: float, burst: int) -> float:
    """Tokens in a bucket after it refilled from `last` to `now` (pure)."""
    return min(float(burst), tokens + max(0.0, now - last) * rate)


class MemoryRateLimiter:
    """Buckets in this process; the gateway runs handlers on several threads."""

    def __init__(
        self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self.now = clock

    async def take(self, key: str, rate: float, burst: int) -> Decision:
        now = self.now()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(burst), now))
            tokens = refill(tokens, last, now, rate, burst)
            if len(self._buckets) >= self.max_keys:
                self._buckets.pop(next(iter(self._buckets)))
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return Decision(True)
            self._buckets[key] = (tokens, now)
        return Decision(False, (1 - tokens) / rate)


_TAKE = """
local b = redis.call('HMGET', KEYS[1], 't', 'ts')
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed, wait = 0, 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""


class RedisRateLimiter:
    """Buckets in Redis hashes, refilled and taken atomically by one script."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._redis = LoopRedis(url)

    def _client(self) -> Redis:
        return self._redis.get()

    async def close(self) -> None:
        """Close this loop's connection."""
        await self._redis.close()

    async def take(self, key: str, rate: float, burst: int) -> Decision:
        try:
            allowed, wait = await self._client().eval(
                _TAKE, 1, f"quarry:ratelimit:{key}", rate, burst, time.time()
            )
        except RedisError as exc:
            log.warning("rate limit unavailable, request let through: %s", exc)
            return Decision(True)
        return Decision(bool(int(allowed)), float(wait))


_lock = threading.Lock()
_limiters: dict[tuple[str, str | None], RateLimiter] = {}


def limiter_for(settings: Settings) -> RateLimiter:
    """The process's limiter for these settings: Redis when the cache is Redis."""
    url = settings.cache_url if settings.cache == "redis" else None
    key = (settings.cache, url)
    with _lock:
        if key not in _limiters:
            _limiters[key] = RedisRateLimiter(url) if url else MemoryRateLimiter()
        return _limiters[key]

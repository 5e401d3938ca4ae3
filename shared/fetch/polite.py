"""Per-host politeness: one request at a time per host:port, then a pause before the next.

The port has an in-process twin for `quarry dev` (the gateway runs handlers on several
threads, each with its own loop, so state sits behind a threading lock and waits are asyncio
sleeps) and a Redis twin for the stack, where every worker process shares the slot and the
next-allowed time. A slot is a lease: a process that dies holding one frees it when it expires.
When Redis is unreachable the Redis twin falls back to an in-process one until it answers
again: politeness coordinates workers, it is not a reason to stop fetching.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from email.utils import parsedate_to_datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.logs import get_logger
from shared.redis_clients import LoopRedis

log = get_logger("quarry.fetch")

MAX_CRAWL_DELAY_S = 30.0
MAX_RETRY_AFTER_S = 120.0
RETRY_STATUSES = frozenset({429, 503})
POLL_S = 0.01
REDIS_RETRY_S = 5.0  # while Redis is down, how long the in-process fallback is used untried
_LOCAL = "local:"  # marks the tokens the in-process fallback handed out


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), capped at
    120 s; None when absent or unreadable. `now` is a Unix time, for tests."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one is read as such
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def host_delay(base_s: float, crawl_delay_s: float | None) -> float:
    """The pause after a request: the configured delay, or robots.txt's Crawl-delay when that
    is longer (capped at 30 s, so one site cannot park a worker for minutes)."""
    return max(base_s, min(crawl_delay_s or 0.0, MAX_CRAWL_DELAY_S))


def pause_after(delay_s: float, status: int | None, retry_after_header: str | None) -> float:
    """The pause after a response: the host delay, or longer when a 429 or 503 says when to
    come back."""
    asked = retry_after(retry_after_header) if status in RETRY_STATUSES else None
    return max(delay_s, asked or 0.0)


class MemoryPoliteness:
    """Slots and next-allowed times in this process, shared by every thread and loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: dict[str, tuple[str, float]] = {}  # key -> (token, lease expiry)
        self._next_at: dict[str, float] = {}

    async def acquire(self, key: str, lease_s: float) -> str:
        token = uuid.uuid4().hex
        while True:
            with self._lock:
                now = time.monotonic()
                held = self._holder.get(key)
                if held is not None and held[1] <= now:
                    held = None  # a holder that never released: its lease ran out
                wait = self._next_at.get(key, 0.0) - now
                if held is None and wait <= 0:
                    self._holder[key] = (token, now + lease_s)
                    self._next_at.pop(key, None)
                    return token
            await asyncio.sleep(POLL_S if held is not None else min(wait, 1.0))

    async def release(self, key: str, token: str, wait_s: float) -> None:
        with self._lock:
            now = time.monotonic()
            if wait_s > 0:
                self._next_at[key] = max(self._next_at.get(key, 0.0), now + wait_s)
            held = self._holder.get(key)
            if held is not None and held[0] == token:
                del self._holder[key]


# Redis's clock, not each process's, decides when the next request may start.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
_ACQUIRE = (
    _NOW
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local next_at = tonumber(redis.call('GET', KEYS[2]) or '0')
if next_at > now then return next_at - now end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 0
"""
)
_RELEASE = (
    _NOW
    + """
local wait = tonumber(ARGV[2])
if wait > 0 then
  local next_at = now + wait
  if next_at > tonumber(redis.call('GET', KEYS[2]) or '0') then
    redis.call('SET', KEYS[2], next_at, 'PX', wait + 1000)
  end
end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""
)


class RedisPoliteness:
    """The slot is a key taken with SET NX PX (by script, with the next-allowed check), the
    next-allowed time a millisecond timestamp; waiters poll with short sleeps.

    When Redis fails, this process keeps to an in-process MemoryPoliteness (one warning per
    outage) and tries Redis again after REDIS_RETRY_S, so a Redis outage never fails a fetch.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._redis = LoopRedis(url)
        self._local = MemoryPoliteness()
        self._lock = threading.Lock()
        self._down = False
        self._retry_at = 0.0

    def _client(self) -> Redis:
        return self._redis.get()

    @staticmethod
    def _keys(key: str) -> tuple[str, str]:
        return f"quarry:polite:{key}:slot", f"quarry:polite:{key}:next"

    def _use_redis(self) -> bool:
        with self._lock:
            return not self._down or time.monotonic() >= self._retry_at

    def _failed(self, exc: RedisError) -> None:
        with self._lock:
            first = not self._down
            self._down, self._retry_at = True, time.monotonic() + REDIS_RETRY_S
        if first:
            log.warning("politeness falls back to this process while Redis is unreachable: %s", exc)

    def _answered(self) -> None:
        with self._lock:
            recovered, self._down = self._down, False
        if recovered:
            log.info("politeness is shared through Redis again")

    async def acquire(self, key: str, lease_s: float) -> str:
        if self._use_redis():
            try:
                token = await self._acquire_redis(key, lease_s)
            except RedisError as exc:
                self._failed(exc)
            else:
                self._answered()
                return token
        return _LOCAL + await self._local.acquire(key, lease_s)

    async def _acquire_redis(self, key: str, lease_s: float) -> str:
        token = uuid.uuid4().hex
        lease_ms = max(1, int(lease_s * 1000))
        while True:
            answer = int(await self._client().eval(_ACQUIRE, 2, *self._keys(key), token, lease_ms))
            if answer == 0:
                return token
            await asyncio.sleep(POLL_S if answer < 0 else min(answer / 1000, 1.0))

    async def release(self, key: str, token: str, wait_s: float) -> None:
        if token.startswith(_LOCAL):
            await self._local.release(key, token.removeprefix(_LOCAL), wait_s)
            return
        wait_ms = max(0, int(wait_s * 1000))
        try:
            await self._client().eval(_RELEASE, 2, *self._keys(key), token, wait_ms)
        except RedisError as exc:
            # The Redis slot frees itself when its lease runs out; the pause is kept here.
            self._failed(exc)
            await self._local.release(key, token, wait_s)

    async def close(self) -> None:
        """Close this loop's connection."""
        await self._redis.close()

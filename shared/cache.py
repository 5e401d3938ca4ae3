"""The cache port with its in-process twin; Redis joins it in the stack."""

from __future__ import annotations

import threading
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.logs import get_logger
from shared.metrics import CACHE_REQUESTS
from shared.redis_clients import LoopRedis

log = get_logger("quarry.cache")


class MemoryCache:
    """A bounded in-process cache with per-key expiry (oldest entries evicted first)."""

    def __init__(self, max_items: int = 10_000) -> None:
        self.max_items = max_items
        self._items: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()  # the gateway runs handlers on several threads

    async def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is not None and item[0] < time.monotonic():
            self._items.pop(key, None)
            item = None
        CACHE_REQUESTS.labels("miss" if item is None else "hit").inc()
        return None if item is None else item[1]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        with self._lock:
            self._store(key, time.monotonic() + ttl_s, value)

    async def incr(self, key: str, ttl_s: float) -> int:
        with self._lock:
            now = time.monotonic()
            expires, value = self._items.get(key, (0.0, b"0"))
            if expires < now:
                expires, value = now + ttl_s, b"0"
            count = int(value) + 1
            self._store(key, expires, str(count).encode())
            return count

    def _store(self, key: str, expires: float, value: bytes) -> None:
        if len(self._items) >= self.max_items and key not in self._items:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (expires, value)


_INCR = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class RedisCache:
    """The cache in Redis; when Redis is unreachable reads are misses and writes are
    dropped, so the cache can slow the platform down but never break it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._redis = LoopRedis(url)

    def _client(self) -> Redis:
        return self._redis.get()

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._client().get(key)
        except RedisError as exc:
            log.warning("cache read failed, treated as a miss: %s", exc)
            value = None
        found = value if isinstance(value, bytes) else None
        CACHE_REQUESTS.labels("miss" if found is None else "hit").inc()
        return found

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        try:
            await self._client().set(key, value, px=max(1, int(ttl_s * 1000)))
        except RedisError as exc:
            log.warning("cache write dropped: %s", exc)

    async def incr(self, key: str, ttl_s: float) -> int:
        try:
            count = await self._client().eval(_INCR, 1, key, max(1, int(ttl_s * 1000)))
        except RedisError as exc:
            log.warning("cache counter unavailable: %s", exc)
            return 0
        return int(count)

    async def close(self) -> None:
        await self._redis.close()

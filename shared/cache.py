"""The cache port with its in-process twin; Redis joins it in the stack."""

from __future__ import annotations

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

    async def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is not None and item[0] < time.monotonic():
            self._items.pop(key, None)
            item = None
        CACHE_REQUESTS.labels("miss" if item is None else "hit").inc()
        return None if item is None else item[1]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if len(self._items) >= self.max_items and key not in self._items:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (time.monotonic() + ttl_s, value)


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

    async def close(self) -> None:
        await self._redis.close()

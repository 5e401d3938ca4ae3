"""The cache port with its in-process twin; Redis joins it in the stack."""

from __future__ import annotations

import time
from typing import Protocol


class Cache(Protocol):
    """Byte values with a time to live; a miss is None, never an error."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...


class MemoryCache:
    """A bounded in-process cache with per-key expiry (oldest entries evicted first)."""

    def __init__(self, max_items: int = 10_000) -> None:
        self.max_items = max_items
        self._items: dict[str, tuple[float, bytes]] = {}

    async def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            self._items.pop(key, None)
            return None
        return value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if len(self._items) >= self.max_items and key not in self._items:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (time.monotonic() + ttl_s, value)

"""Redis clients per event loop: a client's connections belong to the loop that opened them,
and one process runs handlers on several loops (the gateway's executor threads)."""

from __future__ import annotations

import asyncio
import weakref

from redis.asyncio import Redis


class LoopRedis:
    """The Redis client of the running loop, made on first use; `timeout_s` bounds connecting
    and each command (None waits as long as Redis takes)."""

    def __init__(self, url: str, timeout_s: float | None = 0.5) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis]
        self._clients = weakref.WeakKeyDictionary()

    def get(self) -> Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = Redis.from_url(
                self.url, socket_timeout=self.timeout_s, socket_connect_timeout=self.timeout_s
            )
            self._clients[loop] = client
        return client

    async def close(self) -> None:
        """Close the running loop's client, if it made one."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

"""The runtime of a stack process: Postgres writer and reader, Redis queue and cache.

Per-host politeness lives in the queue Redis, which never evicts: a slot or next-allowed
time dropped by the cache's LRU would let two workers hit one host at once.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from emulator.table import Table
from shared.cache import MemoryCache, RedisCache
from shared.config import Settings
from shared.db.engine import Database
from shared.dispatch.redis import RedisDispatcher
from shared.errors import ConfigError
from shared.fetch.polite import RedisPoliteness
from shared.handlers.concurrency import RedisLimiter
from shared.ports import Runtime


class Lifecycle(Protocol):
    """What a stack process starts before serving and shuts down after (the queue client)."""

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...


class _Nothing:
    async def startup(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def process_runtime(settings: Settings, table: Table) -> tuple[Runtime, Lifecycle]:
    """The ports of an instance or scheduler: on Redis Streams, or on SQS (`quarry up --aws`,
    whose SQS client needs no start-up)."""
    if settings.queue == "sqs":
        from emulator.aws.stack import aws_stack_runtime

        return aws_stack_runtime(settings), _Nothing()
    runtime, dispatcher = stack_runtime(settings, table)
    return runtime, dispatcher.broker


def stack_runtime(
    settings: Settings, table: Table, *, pool_size: int | None = None
) -> tuple[Runtime, RedisDispatcher]:
    """Build the ports a stack process uses; the dispatcher lives on the running loop.
    `pool_size`: connections per event loop, for a process that knows its concurrency."""
    if settings.queue != "redis" or not settings.redis_url:
        raise ConfigError("stack processes need QUARRY_QUEUE=redis and QUARRY_REDIS_URL")
    dispatcher = RedisDispatcher(
        settings.redis_url, [f.name for f in table.stages()], asyncio.get_running_loop()
    )
    cache = (
        RedisCache(settings.cache_url)
        if settings.cache == "redis" and settings.cache_url
        else MemoryCache()
    )
    runtime = Runtime(
        settings=settings,
        db=Database(
            settings.database_url,
            settings.database_reader_url,
            replica_max_lag_s=settings.replica_max_lag_s,
            pool_size=pool_size,
        ),
        dispatcher=dispatcher,
        cache=cache,
        limiter=RedisLimiter(settings.redis_url),
        politeness=RedisPoliteness(settings.redis_url),
    )
    return runtime, dispatcher

"""The one composition root: `build_runtime()` chooses and builds the ports of every kind of
process from its settings — `quarry dev`, the stack's processes, `quarry up --aws`,
`quarry invoke` and a Lambda execution environment — so each choice is made once:

| port        | chosen by                                                                     |
| ----------- | ----------------------------------------------------------------------------- |
| database    | the database URLs; Lambda opens a connection per transaction (RDS Proxy pools) |
| dispatcher  | QUARRY_QUEUE: `sqs` (Lambda, `quarry up --aws`), `redis` (the stack); `memory` |
|             | is the embedded platform's in-process broker, which it passes in              |
| cache       | QUARRY_CACHE=redis with QUARRY_CACHE_URL, else in-process                     |
| limiter     | the queue Redis in the stack; in-process elsewhere (Lambda enforces its own)  |
| politeness  | the queue Redis when there is one (it never evicts a slot), else in-process   |

Settings named in QUARRY_SSM_PARAMETERS are read from SSM first. Migrations are a deploy step
(`quarry migrate`), never run here.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from shared.aws import client
from shared.aws.ssm import resolve
from shared.cache import MemoryCache, RedisCache
from shared.concurrency import MemoryLimiter, RedisLimiter
from shared.config import Settings
from shared.config_load import load_settings
from shared.db.engine import SqlDatabase
from shared.dispatch.redis import RedisDispatcher
from shared.dispatch.sqs import SqsDispatcher
from shared.errors import ConfigError
from shared.fetch import HttpFetcher
from shared.fetch.polite import MemoryPoliteness, RedisPoliteness
from shared.flow import FLOW, Flow
from shared.ports import (
    Cache,
    Dispatcher,
    Hook,
    Limiter,
    Politeness,
    Runtime,
    build_on_first_use,
)


def with_ssm(settings: Settings) -> Settings:
    """`settings` with the SSM-named values read (a no-op without QUARRY_SSM_PARAMETERS)."""
    if not settings.ssm_parameters:
        return settings
    return resolve(settings, client("ssm", settings.aws_endpoint).get_parameters)


def build_runtime(
    settings: Settings,
    *,
    dispatcher: Dispatcher | None = None,
    stages: Sequence[str] = (),
    pool_size: int | None = None,
    flow: Flow = FLOW,
) -> Runtime:
    """The ports for `settings`. `dispatcher` replaces the one QUARRY_QUEUE names (the embedded
    platform's broker, `quarry invoke`'s held dispatch); `stages` are the streams a Redis
    dispatcher sends to, and it must be built on the loop that will use it. `pool_size` pools
    exactly that many connections per event loop, no overflow (a process that knows how many
    invocations it runs at once sizes its pool to them); `flow` is the pipeline's (tests run
    others)."""
    settings = with_ssm(settings)
    in_lambda = settings.env == "lambda"
    on_start: list[Hook] = []
    on_close: list[Hook] = []
    if dispatcher is None:
        dispatcher = _dispatcher(settings, stages)
        if isinstance(dispatcher, RedisDispatcher):
            on_start.append(dispatcher.broker.startup)
            on_close.append(dispatcher.broker.shutdown)
    cache: Cache = (
        RedisCache(settings.cache_url)
        if settings.cache == "redis" and settings.cache_url
        else MemoryCache()
    )
    limiter: Limiter = (
        RedisLimiter(settings.redis_url)
        if settings.redis_url and not in_lambda
        else MemoryLimiter()
    )
    politeness: Politeness = (
        RedisPoliteness(settings.redis_url) if settings.redis_url else MemoryPoliteness()
    )
    return Runtime(
        settings=settings,
        db=SqlDatabase(
            settings.database_url,
            settings.database_reader_url,
            replica_max_lag_s=settings.replica_max_lag_s,
            pooled=not in_lambda,
            pool_size=pool_size,
            driver=settings.pg_driver,
        ),
        dispatcher=dispatcher,
        cache=cache,
        # polite, and obeying robots.txt cached in the cache port
        fetcher=HttpFetcher(settings, politeness=politeness, cache=cache),
        limiter=limiter,
        politeness=politeness,
        flow=flow,
        on_start=on_start,
        on_close=on_close,
    )


def _dispatcher(settings: Settings, stages: Sequence[str]) -> Dispatcher:
    if settings.env == "lambda" and settings.queue != "sqs":
        raise ConfigError(f"QUARRY_QUEUE={settings.queue}: functions in Lambda dispatch to SQS")
    if settings.queue == "sqs":
        return SqsDispatcher(client("sqs", settings.aws_endpoint), settings.sqs_queue_prefix)
    if settings.queue == "redis":
        if not settings.redis_url:
            raise ConfigError("QUARRY_QUEUE=redis needs QUARRY_REDIS_URL")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigError("a Redis dispatcher is built on the loop that uses it") from None
        return RedisDispatcher(settings.redis_url, stages, loop)
    raise ConfigError(
        "QUARRY_QUEUE=memory is the embedded platform's in-process broker: run functions "
        "through `quarry dev`, `quarry invoke` or `quarry up`"
    )


def from_environment() -> Runtime:
    """A Lambda execution environment's runtime, built from its environment at the first
    invocation; anywhere else the process must have installed one."""
    settings = load_settings(os.environ)
    if settings.env != "lambda":
        raise ConfigError(
            "no runtime installed: run functions through `quarry dev`, `quarry invoke` or "
            "`quarry up`, which install one"
        )
    return build_runtime(settings)


# Every Lambda entry (the HTTP app, the stage adapter, the ticker) imports this module, so the
# first `ports.current()` of an execution environment builds its runtime.
build_on_first_use(from_environment)

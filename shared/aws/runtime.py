"""The runtime of a Lambda execution environment, built once at cold start from the
environment: settings completed from SSM, Postgres through RDS Proxy without a pool of its
own, SQS dispatch, and the Redis cache. Migrations are a deploy step (`quarry migrate`),
never run here."""

from __future__ import annotations

from shared.aws import client
from shared.aws.ssm import resolve
from shared.cache import Cache, MemoryCache, RedisCache
from shared.config import Settings
from shared.db.engine import Database
from shared.dispatch.sqs import SqsDispatcher
from shared.errors import ConfigError
from shared.fetch.polite import MemoryPoliteness, Politeness, RedisPoliteness
from shared.ports import Runtime


def cloud_settings(settings: Settings) -> Settings:
    """`settings` with the SSM-named values read (a no-op without QUARRY_SSM_PARAMETERS)."""
    if not settings.ssm_parameters:
        return settings
    ssm = client("ssm", settings.aws_endpoint)
    return resolve(settings, ssm.get_parameters)


def lambda_runtime(settings: Settings) -> Runtime:
    """The ports of one execution environment; reserved concurrency is Lambda's own."""
    settings = cloud_settings(settings)
    if settings.queue != "sqs":
        raise ConfigError(f"QUARRY_QUEUE={settings.queue}: functions in Lambda dispatch to SQS")
    cache: Cache = (
        RedisCache(settings.cache_url)
        if settings.cache == "redis" and settings.cache_url
        else MemoryCache()
    )
    politeness: Politeness = (
        RedisPoliteness(settings.redis_url) if settings.redis_url else MemoryPoliteness()
    )
    return Runtime(
        settings=settings,
        db=Database(
            settings.database_url,
            settings.database_reader_url,
            replica_max_lag_s=settings.replica_max_lag_s,
            pooled=False,
        ),
        dispatcher=SqsDispatcher(client("sqs", settings.aws_endpoint), settings.sqs_queue_prefix),
        cache=cache,
        politeness=politeness,
    )

"""`quarry up --aws`: the stack's ports with SQS as the queue, the one-shot that creates the
queues of serverless.yml in the local AWS emulator, and the emulator's own service."""

from __future__ import annotations

import sys
from pathlib import Path

from emulator.aws.queues import create_queues, queue_specs
from emulator.table import read_document
from shared.aws import client
from shared.cache import Cache, MemoryCache, RedisCache
from shared.config import Settings
from shared.db.engine import Database
from shared.dispatch.sqs import SqsDispatcher
from shared.errors import ConfigError
from shared.fetch.polite import RedisPoliteness
from shared.handlers.concurrency import RedisLimiter
from shared.ports import Runtime

STAGE = "dev"  # the stage serverless.yml's queue names are resolved for locally


def queue_prefix(service: str) -> str:
    """The prefix of the stage queues, as serverless.yml names them for the local stage."""
    return f"{service}-{STAGE}-"


def aws_stack_runtime(settings: Settings) -> Runtime:
    """A stack process's ports on the AWS path: Postgres primary and replica, SQS dispatch
    at the local emulator, the Redis cache, and the queue Redis for leases and politeness."""
    if settings.queue != "sqs" or not settings.aws_endpoint or not settings.redis_url:
        raise ConfigError(
            "the AWS stack needs QUARRY_QUEUE=sqs, QUARRY_AWS_ENDPOINT and QUARRY_REDIS_URL"
        )
    cache: Cache = (
        RedisCache(settings.cache_url)
        if settings.cache == "redis" and settings.cache_url
        else MemoryCache()
    )
    return Runtime(
        settings=settings,
        db=Database(
            settings.database_url,
            settings.database_reader_url,
            replica_max_lag_s=settings.replica_max_lag_s,
        ),
        dispatcher=SqsDispatcher(client("sqs", settings.aws_endpoint), settings.sqs_queue_prefix),
        cache=cache,
        limiter=RedisLimiter(settings.redis_url),
        politeness=RedisPoliteness(settings.redis_url),
    )


def setup(endpoint: str, table_path: Path) -> dict[str, str]:
    """Create serverless.yml's queues and dead-letter queues (idempotent)."""
    return create_queues(client("sqs", endpoint), queue_specs(read_document(table_path), STAGE))


def main(argv: list[str]) -> None:
    """`python -m emulator.aws.stack ENDPOINT [TABLE]`: create the queues, print their URLs."""
    if not argv:
        sys.exit("usage: python -m emulator.aws.stack ENDPOINT [TABLE]")
    table = Path(argv[1]) if len(argv) > 1 else Path("serverless.yml")
    for logical, url in setup(argv[0], table).items():
        print(f"{logical}: {url}")


if __name__ == "__main__":
    main(sys.argv[1:])

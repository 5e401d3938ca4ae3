"""Redis Streams dispatch (taskiq-redis): one stream per stage, an entry per message (a Taskiq
message carrying the SQS-shaped record), all of one send added in one pipelined round trip;
workers read up to a batch at a time and acknowledge only after the stage's commit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from redis.asyncio import Redis
from taskiq.message import TaskiqMessage
from taskiq_redis import RedisStreamBroker

from shared.dispatch.taskiq import TaskiqDispatcher
from shared.errors import ConfigError

STREAM_PREFIX = "quarry:stage:"


def stream_of(stage: str) -> str:
    return STREAM_PREFIX + stage


def stage_broker(url: str, stage: str, *, consumer: str, idle_ms: int) -> RedisStreamBroker:
    """The broker a stage's worker reads with: its own stream and consumer group, starting
    from the stream's beginning so messages sent before the first worker are not missed."""
    return RedisStreamBroker(
        url,
        queue_name=stream_of(stage),
        consumer_group_name=stage,
        consumer_name=consumer,
        consumer_id="0",
        idle_timeout=idle_ms,
        xread_block=1000,
    )


class RedisDispatcher(TaskiqDispatcher):
    """Sends stage messages into each stage's stream from any process."""

    def __init__(
        self, url: str, stages: Iterable[str], loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        super().__init__(RedisStreamBroker(url, queue_name=stream_of("unrouted")), loop)
        for stage in stages:
            self.register(stage, _sender_only(stage), queue_name=stream_of(stage))

    def entry(self, stage: str, record: dict[str, Any]) -> bytes:
        """A stream entry's data: the Taskiq message of the stage's task with the record."""
        message = TaskiqMessage(
            task_id=uuid.uuid4().hex, task_name=stage, labels={}, args=[record], kwargs={}
        )
        return self.broker.formatter.dumps(message).message

    async def _kick(self, stage: str, records: Sequence[dict[str, Any]]) -> None:
        if stage not in self.tasks:
            raise ConfigError(f"no Redis stream is known for stage {stage!r}")
        assert isinstance(self.broker, RedisStreamBroker)
        async with Redis(connection_pool=self.broker.connection_pool) as redis:
            pipe = redis.pipeline(transaction=False)
            for record in records:
                pipe.xadd(stream_of(stage), {b"data": self.entry(stage, record)})
            await pipe.execute()


def _sender_only(stage: str) -> Any:
    async def task(record: dict[str, Any]) -> None:
        raise RuntimeError(f"{stage} runs in its worker, not in a sending process")

    task.__name__ = f"{stage}_send"
    return task

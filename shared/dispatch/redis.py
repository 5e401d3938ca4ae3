"""Redis Streams dispatch (taskiq-redis): one stream per stage, acknowledged by workers
only after the stage's commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from taskiq_redis import RedisStreamBroker

from shared.dispatch.taskiq import TaskiqDispatcher

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


def _sender_only(stage: str) -> Any:
    async def task(record: dict[str, Any]) -> None:
        raise RuntimeError(f"{stage} runs in its worker, not in a sending process")

    task.__name__ = f"{stage}_send"
    return task

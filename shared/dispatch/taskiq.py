"""Taskiq dispatch: every stage is a Taskiq task that receives a batch of SQS-shaped records,
up to the stage's `batchSize`, as Lambda's event source mapping hands a function a batch."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, InMemoryBroker

from shared import metrics
from shared.dispatch.turns import Turns
from shared.errors import ConfigError
from shared.lambda_events.sqs import message_record, receive_count
from shared.logs import request_id_var
from shared.metrics.queues import MemoryQueueLedger

TaskFn = Callable[[list[dict[str, Any]]], Coroutine[Any, Any, None]]
DEFAULT_BATCH = 10  # the sqs event's batchSize when serverless.yml gives none


class TaskiqDispatcher:
    """Kicks one Taskiq task per batch of a send (up to the stage's batch size). The broker
    lives on one event loop; sends from other threads (API invocations) hop onto it, so
    stage work never runs on a loop that stops when a request ends. With the in-process
    broker it also keeps the queues' ledger that the queue depth gauges read.

    `invocations` caps the stage tasks running at once: Taskiq's in-process broker starts a
    task per kick at once (its `max_async_tasks` limits only a listening worker), so without
    the cap every message sent would run at the same time. A task waiting for its turn is
    still queued: its function's time starts when it runs, as on a queue. Turns go to the
    stage with the highest `rank` first (`register`: its place in the flow)."""

    def __init__(
        self,
        broker: AsyncBroker,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        invocations: int | None = None,
    ) -> None:
        self.broker = broker
        self.loop = loop
        self.turns = Turns(invocations) if invocations else None
        self.tasks: dict[str, AsyncTaskiqDecoratedTask[[list[dict[str, Any]]], Any]] = {}
        self.batch_sizes: dict[str, int] = {}
        self.ledger: MemoryQueueLedger | None = None
        if isinstance(broker, InMemoryBroker):
            self.ledger = MemoryQueueLedger()
            metrics.QUEUES.watch(self.ledger)

    def register(
        self,
        stage: str,
        fn: TaskFn,
        *,
        batch_size: int = DEFAULT_BATCH,
        rank: int = 0,
        **labels: Any,
    ) -> None:
        """Register a stage's Taskiq task under the stage's name."""
        if self.ledger is not None:
            self.ledger.declare(stage)
        self.batch_sizes[stage] = batch_size
        self.tasks[stage] = self.broker.register_task(
            _tracked(stage, fn, self.ledger, self.turns, rank), task_name=stage, **labels
        )

    async def _kick(self, stage: str, records: Sequence[dict[str, Any]]) -> None:
        task = self.tasks.get(stage)
        if task is None:
            raise ConfigError(f"no Taskiq task is registered for stage {stage!r}")
        size = self.batch_sizes.get(stage, DEFAULT_BATCH)
        for start in range(0, len(records), size):
            batch = list(records[start : start + size])
            if self.ledger is not None:
                for record in batch:
                    self.ledger.sent(stage, _ledger_key(record))
            await task.kiq(batch)

    async def send_records(self, stage: str, records: Sequence[dict[str, Any]]) -> None:
        """Enqueue ready-made records (a retry carries its receive count)."""
        running = asyncio.get_running_loop()
        if self.loop is None or self.loop is running:
            await self._kick(stage, records)
            return
        future = asyncio.run_coroutine_threadsafe(self._kick(stage, records), self.loop)
        await asyncio.wrap_future(future)

    async def send(self, stage: str, bodies: Sequence[dict[str, Any]]) -> None:
        rid = request_id_var.get()
        await self.send_records(
            stage, [message_record(stage, body, request_id=rid) for body in bodies]
        )

    async def resend(self, stage: str, record: dict[str, Any]) -> None:
        """Send a message again (a retry, or one reclaimed from a dead worker)."""
        metrics.RETRIES.labels(stage).inc()
        await self.send_records(stage, [record])


def _tracked(
    stage: str, fn: TaskFn, ledger: MemoryQueueLedger | None, turns: Turns | None, rank: int
) -> TaskFn:
    """The task body, once it has its turn, noting in the ledger when messages start and
    leave the queue."""
    if ledger is None and turns is None:
        return fn

    async def task(records: list[dict[str, Any]]) -> None:
        async with turns.turn(rank) if turns else contextlib.nullcontext():
            keys = [_ledger_key(record) for record in records]
            for key in keys:
                if ledger is not None:
                    ledger.started(stage, key)
            try:
                await fn(records)
            finally:
                for key in keys:
                    if ledger is not None:
                        ledger.finished(stage, key)

    task.__name__ = task.__qualname__ = getattr(fn, "__name__", f"{stage}_task")
    return task


def _ledger_key(record: dict[str, Any]) -> str:
    """One delivery of a message: a retry is the same message id received once more."""
    return f"{record.get('messageId', '')}#{receive_count(record)}"

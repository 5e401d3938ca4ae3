"""Taskiq dispatch: every stage is a Taskiq task that receives SQS-shaped records."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, InMemoryBroker

from shared import metrics
from shared.errors import ConfigError
from shared.lambda_events.sqs import message_record, receive_count
from shared.logs import request_id_var
from shared.metrics.queues import MemoryQueueLedger

TaskFn = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


class TaskiqDispatcher:
    """Kicks one Taskiq task per message. The broker lives on one event loop; sends from
    other threads (API invocations) hop onto it, so stage work never runs on a loop that
    stops when a request ends. With the in-process broker it also keeps the queues' ledger
    that the queue depth gauges read."""

    def __init__(self, broker: AsyncBroker, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.broker = broker
        self.loop = loop
        self.tasks: dict[str, AsyncTaskiqDecoratedTask[[dict[str, Any]], Any]] = {}
        self.ledger: MemoryQueueLedger | None = None
        if isinstance(broker, InMemoryBroker):
            self.ledger = MemoryQueueLedger()
            metrics.QUEUES.watch(self.ledger)

    def register(self, stage: str, fn: TaskFn, **labels: Any) -> None:
        """Register a stage's Taskiq task under the stage's name."""
        if self.ledger is not None:
            self.ledger.declare(stage)
        self.tasks[stage] = self.broker.register_task(
            _tracked(stage, fn, self.ledger), task_name=stage, **labels
        )

    async def _kick(self, stage: str, records: Sequence[dict[str, Any]]) -> None:
        task = self.tasks.get(stage)
        if task is None:
            raise ConfigError(f"no Taskiq task is registered for stage {stage!r}")
        for record in records:
            if self.ledger is not None:
                self.ledger.sent(stage, _ledger_key(record))
            await task.kiq(record)

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


def _tracked(stage: str, fn: TaskFn, ledger: MemoryQueueLedger | None) -> TaskFn:
    """The task body, noting in the ledger when a message starts and leaves the queue."""
    if ledger is None:
        return fn

    async def task(record: dict[str, Any]) -> None:
        message_id = _ledger_key(record)
        ledger.started(stage, message_id)
        try:
            await fn(record)
        finally:
            ledger.finished(stage, message_id)

    task.__name__ = task.__qualname__ = getattr(fn, "__name__", f"{stage}_task")
    return task


def _ledger_key(record: dict[str, Any]) -> str:
    """One delivery of a message: a retry is the same message id received once more."""
    return f"{record.get('messageId', '')}#{receive_count(record)}"

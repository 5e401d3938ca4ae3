"""Stage functions as Taskiq tasks, under the shared delivery policy (retries, dead letters):
each task is one invocation over a batch of SQS-shaped records."""

from __future__ import annotations

from typing import Any

from emulator.table import Function
from shared.dispatch.taskiq import TaskFn
from shared.handlers import delivery
from shared.handlers.delivery import Attempting, Resend
from shared.ports import current


def stage_task(handler: Attempting, fn: Function, resend: Resend) -> TaskFn:
    """The Taskiq task body of a stage: a batch of records per invocation. It never raises,
    so the broker acknowledges only after the stage committed, retried or dead-lettered."""

    async def task(records: list[dict[str, Any]]) -> None:
        await delivery.deliver(
            handler,
            records,
            runtime=current(),
            max_receive=fn.max_receive,
            timeout_s=fn.timeout,
            resend=resend,
            reserved=fn.reserved_concurrency,
        )

    task.__name__ = task.__qualname__ = f"{fn.name}_task"
    return task

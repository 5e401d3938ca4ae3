"""Stage functions as Taskiq tasks, under the shared delivery policy (retries, dead letters)."""

from __future__ import annotations

from typing import Any

from emulator.table import Function
from shared.dispatch.taskiq import TaskFn
from shared.handlers import delivery
from shared.handlers.delivery import Attempting, Resend
from shared.ports import current


def stage_task(handler: Attempting, fn: Function, resend: Resend) -> TaskFn:
    """The Taskiq task body of a stage: one SQS-shaped record per message. It never raises,
    so the broker acknowledges only after the stage committed, retried or dead-lettered."""

    async def task(record: dict[str, Any]) -> None:
        await delivery.deliver(
            handler,
            record,
            runtime=current(),
            max_receive=fn.max_receive,
            timeout_s=fn.timeout,
            resend=resend,
            reserved=fn.reserved_concurrency,
        )

    task.__name__ = task.__qualname__ = f"{fn.name}_task"
    return task

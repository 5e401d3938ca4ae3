"""Schedules: EventBridge scheduled events delivered to functions at their times."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from shared.logs import get_logger
from shared.runtime.context import LambdaContext
from shared.schedule import parse_schedule, scheduled_event

log = get_logger("quarry.scheduler")
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


async def invoke_scheduled(handler: Any, event: dict[str, Any], context: LambdaContext) -> Any:
    """Hand a scheduled event to a handler: a stage's async entry, or any sync handler."""
    process = getattr(handler, "process", None)
    if process is not None:
        return await process(event, context)
    return await asyncio.get_running_loop().run_in_executor(None, handler, event, context)


async def deliver(
    handler: Any,
    function: str,
    expression: str,
    timeout_s: float,
    *,
    clock: Clock = utcnow,
    sleep: Sleep = asyncio.sleep,
    fires: int | None = None,
) -> None:
    """Fire `expression` for `function` until cancelled (or `fires` times), each time with
    the EventBridge "Scheduled Event" AWS would send. Rates are anchored at start-up."""
    schedule = parse_schedule(expression, anchor=clock())
    rule = f"arn:aws:events:us-east-1:000000000000:rule/quarry-{function}"
    fired = 0
    while fires is None or fired < fires:
        now = clock()
        due = schedule.next_after(now)
        await sleep((due - now).total_seconds())
        event = scheduled_event(rule, due, account="000000000000")
        log.info("schedule fired", extra={"target": function, "expression": expression})
        try:
            await invoke_scheduled(handler, event, LambdaContext(function, timeout_s=timeout_s))
        except Exception:  # one failed delivery must not stop the schedule
            log.exception("scheduled invocation of %s failed", function)
        fired += 1

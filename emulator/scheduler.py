"""The scheduler: EventBridge scheduled events for the table's `schedule` events, and
runs for sources that carry a schedule. Every due time is claimed in the database first,
so two schedulers never fire the same one twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulator.table import Function
from shared import outbox
from shared.handlers.context import LambdaContext
from shared.lambda_events.arns import LOCAL_ACCOUNT
from shared.lambda_events.schedule import rule_arn, scheduled_event
from shared.logs import get_logger
from shared.ports import Runtime
from shared.schedule_expressions import EPOCH
from shared.scheduled_runs import claim, due_times, start_due_runs
from shared.webhooks import outbound

log = get_logger("quarry.scheduler")
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Target:
    """A function's schedule event: rates are anchored at the epoch, as in EventBridge
    every scheduler agrees on the fire times."""

    function: Function
    expression: str
    handler: Any

    @property
    def rule(self) -> str:
        return rule_arn(f"quarry-{self.function.name}", account=LOCAL_ACCOUNT)


def targets_of(functions: Sequence[Function], handlers: dict[str, Any]) -> list[Target]:
    return [Target(fn, expr, handlers[fn.name]) for fn in functions for expr in fn.schedules]


async def invoke_scheduled(handler: Any, event: dict[str, Any], context: LambdaContext) -> Any:
    """Hand a scheduled event to a handler: a stage's async entry, or any sync handler."""
    process = getattr(handler, "process", None)
    if process is not None:
        return await process(event, context)
    return await asyncio.get_running_loop().run_in_executor(None, handler, event, context)


async def tick(
    rt: Runtime,
    targets: Sequence[Target],
    after: datetime,
    now: datetime,
    me: str,
    *,
    source_runs: bool = True,
) -> list[str]:
    """Fire everything due in (after, now]; returns what fired, for logs and tests. Without
    `source_runs` only the table's schedule events fire (EventBridge's part: in AWS the
    ticker function starts source runs)."""
    started = await start_due_runs(rt, after, now, me) if source_runs else []
    fired = [f"run:{run_id}" for run_id in started]
    for target in targets:
        for due in due_times(target.expression, EPOCH, after, now):
            rule = f"function:{target.function.name}:{target.expression}"
            async with rt.db.writer() as session:
                won = await claim(session, rule, due, me)
            if not won:
                continue
            event = scheduled_event(target.rule, due, account=LOCAL_ACCOUNT)
            context = LambdaContext(target.function.name, timeout_s=target.function.timeout)
            log.info("schedule fired", extra={"target": target.function.name, "due": str(due)})
            try:
                await invoke_scheduled(target.handler, event, context)
            except Exception:  # one failed delivery must not stop the scheduler
                log.exception("scheduled invocation of %s failed", target.function.name)
            fired.append(f"{target.function.name}@{event['time']}")
    return fired


async def run(
    rt: Runtime,
    targets: Sequence[Target],
    me: str,
    *,
    every_s: float = 1.0,
    relay_every_s: float = 2.0,
    clock: Clock = utcnow,
    sleep: Sleep = asyncio.sleep,
    eventbridge_only: bool = False,
) -> None:
    """Tick until cancelled; also relays outbox rows left unsent (a crash, a queue outage)
    and starts due source runs, unless `eventbridge_only`: functions in execution
    environments, where the ticker function does both, with its own role, as in AWS."""
    after = clock()
    last_relay = after
    while True:
        await sleep(every_s)
        now = clock()
        try:
            await tick(rt, targets, after, now, me, source_runs=not eventbridge_only)
            if not eventbridge_only and (now - last_relay).total_seconds() >= relay_every_s:
                await outbox.relay(rt.db, rt.dispatcher)
                outbound.kick(rt)  # run events to webhook subscribers
                last_relay = now
        except Exception:  # the database or queue is down: try again next tick
            log.exception("scheduler tick failed; retrying")
            continue
        after = now

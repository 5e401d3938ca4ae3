"""Ticker: in Lambda, once a minute, start the source runs that fell due, send outbox rows left
unsent (the send after a commit failed), post run events to webhook subscribers, and keep the
messages SQS moved to the stages' dead-letter queues as dead letters, where the API and the
dashboard list and replay them; the stack's scheduler process does the first three locally.
Each due time is claimed once in the database and receivers are idempotent, so overlapping or
repeated ticks change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared import (
    composition,  # noqa: F401  (a Lambda environment builds its runtime there)
    deadletters,
    outbox,
)
from shared.dispatch.sqs import SqsDispatcher
from shared.errors import ConfigError
from shared.handlers.loop import run_sync
from shared.lambda_events.sqs import receive_count
from shared.logs import get_logger
from shared.ports import Runtime, current
from shared.scheduled_runs import start_due_runs
from shared.webhooks import outbound

log = get_logger("quarry.ticker")
# Due times up to this far back are (re)considered, so a tick that was late or failed is
# made up by the next ones; claims keep each due time to one run.
LOOKBACK = timedelta(minutes=10)
EXHAUSTED = "failed every receive its queue allows; SQS moved it to the dead-letter queue"


async def keep_dead_letters(rt: Runtime) -> int:
    """Move what the stages' SQS dead-letter queues hold into the dead letters table: each
    message is deleted from its queue only after it is kept."""
    dispatcher = rt.dispatcher
    if not isinstance(dispatcher, SqsDispatcher):
        return 0  # Redis Streams and the in-process broker bury their own dead letters
    kept = 0
    for stage in rt.flow.names:  # every stage's queue has a dead-letter queue
        try:
            records = await dispatcher.take_dead_letters(stage)
        except ConfigError as exc:  # a stage without a dead-letter queue
            log.warning("dead letters of %s not read: %s", stage, exc.detail)
            continue
        for record in records:
            # the count carried over from the stage's queue, plus this receive
            received = receive_count(record)
            await deadletters.bury(rt, stage, record, EXHAUSTED, max(received - 1, 0))
        await dispatcher.forget_dead_letters(stage, records)
        kept += len(records)
    return kept


async def tick(request_id: str, now: datetime | None = None) -> dict[str, int]:
    rt = current()
    now = now or datetime.now(UTC)
    started = await start_due_runs(rt, now - LOOKBACK, now, f"ticker-{request_id}")
    relayed = await outbox.relay(rt.db, rt.dispatcher)
    kept = await keep_dead_letters(rt)
    # Run events to webhook subscribers: awaited here, as Lambda freezes after the return.
    events = await outbound.relay(rt)
    if started or relayed or kept or events:
        log.info(
            "tick",
            extra={
                "runs_started": len(started),
                "relayed": relayed,
                "kept": kept,
                "events": events,
            },
        )
    return {
        "runs_started": len(started),
        "relayed": relayed,
        "dead_letters": kept,
        "webhook_events": events,
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The EventBridge schedule's target: what one tick started, relayed and kept."""
    return run_sync(tick(str(getattr(context, "aws_request_id", "") or event.get("id", ""))))

"""Ticker: in Lambda, once a minute, start the source runs that fell due and send outbox rows
left unsent (the send after a commit failed), which the stack's scheduler process does locally.
Each due time is claimed once in the database and receivers are idempotent, so overlapping or
repeated ticks change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared import outbox
from shared.logs import get_logger
from shared.runtime.deps import current
from shared.runtime.loop import run_sync
from shared.schedules import start_due_runs

log = get_logger("quarry.ticker")
# Due times up to this far back are (re)considered, so a tick that was late or failed is
# made up by the next ones; claims keep each due time to one run.
LOOKBACK = timedelta(minutes=10)


async def tick(request_id: str, now: datetime | None = None) -> dict[str, int]:
    rt = current()
    now = now or datetime.now(UTC)
    started = await start_due_runs(rt, now - LOOKBACK, now, f"ticker-{request_id}")
    relayed = await outbox.relay(rt.db, rt.dispatcher)
    if started or relayed:
        log.info("tick", extra={"runs_started": len(started), "relayed": relayed})
    return {"runs_started": len(started), "relayed": relayed}


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The EventBridge schedule's target: what one tick started and relayed."""
    return run_sync(tick(str(getattr(context, "aws_request_id", "") or event.get("id", ""))))

"""Schedules that start runs: each due time is claimed once in the database, so a due
schedule fires exactly once however many schedulers run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox, runs
from shared.db.models import ScheduleClaim, Source
from shared.errors import ConflictError
from shared.logs import get_logger
from shared.ports import Runtime
from shared.schedule_expressions import ScheduleError, parse_schedule

log = get_logger("quarry.schedules")


async def claim(session: AsyncSession, rule: str, due: datetime, by: str) -> bool:
    """Insert the claim for (rule, due) in the caller's transaction; False if taken."""
    try:
        async with session.begin_nested():
            session.add(ScheduleClaim(rule=rule, due_at=due, claimed_by=by))
    except IntegrityError:
        return False
    return True


def due_times(expression: str, anchor: datetime, after: datetime, now: datetime) -> list[datetime]:
    """Fire times of `expression` in (after, now], at most the last 3 (a scheduler that
    was down does not replay a backlog of missed fires)."""
    schedule = parse_schedule(expression, anchor=anchor)
    times: list[datetime] = []
    t = schedule.next_after(after)
    while t <= now:
        times.append(t)
        t = schedule.next_after(t)
    return times[-3:]


async def start_due_runs(rt: Runtime, after: datetime, now: datetime, by: str) -> list[str]:
    """Start a run for every source schedule due in (after, now]; returns the run ids."""
    async with rt.db.reader() as session:
        sources = (await session.scalars(select(Source).where(Source.schedule.is_not(None)))).all()
    started: list[str] = []
    for source in sources:
        assert source.schedule is not None
        try:
            times = due_times(source.schedule, source.created_at, after, now)
        except ScheduleError as exc:
            log.error("source %s has an invalid schedule: %s", source.id, exc)
            continue
        cap = rt.settings.max_active_runs_per_source
        for due in times:
            try:
                async with rt.db.writer() as session:
                    if not await claim(session, f"source:{source.id}", due, by):
                        continue
                    run, ids = await runs.start_run_in(
                        session, source.id, "schedule", max_active=cap, flow=rt.flow
                    )
                    row = await session.get(Source, source.id)
                    if row is not None:
                        row.next_run_at = parse_schedule(
                            source.schedule, anchor=source.created_at
                        ).next_after(now)
            except ConflictError as exc:  # still busy: this due time is skipped, not queued
                log.warning("scheduled run skipped: %s", exc.detail)
                continue
            await outbox.flush(rt.db, rt.dispatcher, ids)
            started.append(run.id)
    return started

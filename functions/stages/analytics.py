"""Analytics stage: insights → daily (UTC) rollups per source, after each run and on schedule.

After a run the days its documents fall on are rewritten, for its source only; the
schedule rewrites every source's days and drops rows whose documents are gone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Run
from shared.handlers.stage import StageDeps, stage
from shared.messages import RollupSource
from shared.outcome import Outcome, Result, succeeded
from shared.pipeline.rollups import rollup
from shared.repo import rollups


def _scheduled(event: dict[str, Any]) -> RollupSource:
    return RollupSource(run_id=f"schedule-{event.get('id', 'unknown')}", source_id=None)


@stage("analytics", on_schedule=_scheduled)
async def handler(msg: RollupSource, deps: StageDeps) -> Result:
    async with deps.read() as session:
        run = await session.get(Run, msg.run_id)
        if run is None:  # the schedule: every source, every day
            facts = await rollups.facts(session, msg.source_id)
        else:
            on = {f.day for f in await rollups.facts(session, run.source_id, run_id=run.id)}
            facts = await rollups.facts(session, run.source_id, days=on) if on else []
    days = rollup(facts)
    every = run is None

    async def write(session: AsyncSession) -> Outcome:
        await rollups.store(session, days)
        if every:
            keep = {(d.source_id, d.day) for d in days}
            await rollups.drop_others(session, msg.source_id, keep)
        return succeeded()

    return write

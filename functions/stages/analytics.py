"""Analytics stage: insights → daily (UTC) rollups per source, after each run and on schedule.

After a run the days its documents fall on are rewritten, for its source only; the
schedule rewrites every source's days and drops rows whose documents are gone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

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
        facts, every = await rollups.facts_to_roll_up(session, msg.run_id, msg.source_id)
    days = rollup(facts)

    async def write(session: AsyncSession) -> Outcome:
        await rollups.store(session, days)
        if every:
            keep = {(d.source_id, d.day) for d in days}
            await rollups.drop_others(session, msg.source_id, keep)
        return succeeded()

    return write

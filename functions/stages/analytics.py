"""Analytics stage: insights → daily (UTC) rollups per source, after each run and on schedule.

After a run the days its documents fall on are rewritten, for its source only; the
schedule rewrites every source's days and drops rows whose documents are gone.
"""

from __future__ import annotations

from typing import Any

from shared.db.models import Run
from shared.handlers.stage import StageDeps, stage
from shared.messages import RollupSource
from shared.pipeline.rollups import rollup
from shared.repo import rollups


def _scheduled(event: dict[str, Any]) -> RollupSource:
    return RollupSource(run_id=f"schedule-{event.get('id', 'unknown')}", source_id=None)


@stage("analytics", on_schedule=_scheduled)
async def handler(msg: RollupSource, deps: StageDeps) -> None:
    session = deps.session
    run = await session.get(Run, msg.run_id)
    if run is not None:
        touched = {
            (f.source_id, f.day) for f in await rollups.facts(session, run.source_id, run_id=run.id)
        }
        if not touched:
            return
        on = {day for _, day in touched}
        days = rollup(await rollups.facts(session, run.source_id, days=on))
        await rollups.store(session, days)
        return
    days = rollup(await rollups.facts(session, msg.source_id))
    await rollups.store(session, days)
    await rollups.drop_others(session, msg.source_id, {(d.source_id, d.day) for d in days})

"""Runs as the API shows them: state plus per-stage counts."""

from __future__ import annotations

from sqlalchemy import func, select

from shared.db.models import Run, StageResult
from shared.errors import NotFoundError
from shared.pagination.keyset import keyset, page_of
from shared.ports import Runtime
from shared.repo import costs
from shared.repo.sources import secret
from shared.schemas import Page, RunOut, StageCounts

STATES = ("queued", "running", "succeeded", "failed", "cancelled")


async def get(rt: Runtime, run_id: str) -> RunOut:
    async with rt.db.reader() as session:
        run = await session.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"run {run_id} does not exist")
        counts = await session.execute(
            select(StageResult.stage, StageResult.status, func.count())
            .where(StageResult.run_id == run_id)
            .group_by(StageResult.stage, StageResult.status)
        )
        out = RunOut.model_validate(run)
        for stage, status, n in counts:
            setattr(out.stages.setdefault(stage, StageCounts()), status, n)
        out.cost = await costs.for_run(
            session, run_id, run.spent_usd, run.spent_tokens, rt.flow.names
        )
        return out


async def list_(
    rt: Runtime,
    limit: int,
    cursor: str | None,
    source_id: str | None = None,
    state: str | None = None,
) -> Page[RunOut]:
    stmt = select(Run)
    if source_id:
        stmt = stmt.where(Run.source_id == source_id)
    if state:
        stmt = stmt.where(Run.state == state)
    stmt = keyset(stmt, Run.created_at, Run.id, cursor, limit, secret(rt))
    async with rt.db.reader() as session:
        rows = (await session.scalars(stmt)).all()
    items, nxt = page_of(rows, limit, secret(rt), "created_at")
    return Page(items=[RunOut.model_validate(r) for r in items], next_cursor=nxt)

"""A source's recent runs, for its page (shared/repo/sources does the rest)."""

from __future__ import annotations

from sqlalchemy import select

from shared.db.models import Run
from shared.ports import Runtime
from shared.schemas import RunOut


async def recent_runs(rt: Runtime, source_id: str, limit: int = 10) -> list[RunOut]:
    async with rt.db.reader() as session:
        rows = await session.scalars(
            select(Run)
            .where(Run.source_id == source_id)
            .order_by(Run.created_at.desc(), Run.id.desc())
            .limit(limit)
        )
        return [RunOut.model_validate(r) for r in rows.all()]

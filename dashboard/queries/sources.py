"""Editing a source from the dashboard's form (the API creates, lists and deletes)."""

from __future__ import annotations

from sqlalchemy import select

from shared.db.models import Run, Source
from shared.errors import NotFoundError
from shared.runtime.deps import Runtime
from shared.schemas import RunOut, SourceIn, SourceOut


async def update(rt: Runtime, source_id: str, body: SourceIn) -> SourceOut:
    async with rt.db.writer() as session:
        source = await session.get(Source, source_id)
        if source is None:
            raise NotFoundError(f"source {source_id} does not exist")
        source.name = body.name
        source.kind = body.kind
        source.url = str(body.url) if body.url else None
        source.urls = [str(u) for u in body.urls]
        if source.schedule != body.schedule:
            source.schedule = body.schedule
            source.next_run_at = None  # the scheduler works the next time out afresh
        await session.flush()
        return SourceOut.model_validate(source)


async def recent_runs(rt: Runtime, source_id: str, limit: int = 10) -> list[RunOut]:
    async with rt.db.reader() as session:
        rows = await session.scalars(
            select(Run)
            .where(Run.source_id == source_id)
            .order_by(Run.created_at.desc(), Run.id.desc())
            .limit(limit)
        )
        return [RunOut.model_validate(r) for r in rows.all()]

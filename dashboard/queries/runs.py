"""A run's per-stage timeline and its failed documents, for the run detail page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from shared.db.models import Document, StageResult
from shared.ports import Runtime


@dataclass(frozen=True)
class StageSpan:
    stage: str
    first: datetime
    last: datetime
    total: int


@dataclass(frozen=True)
class Failure:
    stage: str
    status: str
    detail: str | None
    document_id: str
    url: str
    title: str | None


async def timeline(rt: Runtime, run_id: str) -> list[StageSpan]:
    async with rt.db.reader() as session:
        rows = await session.execute(
            select(
                StageResult.stage,
                func.min(StageResult.updated_at),
                func.max(StageResult.updated_at),
                func.count(),
            )
            .where(StageResult.run_id == run_id)
            .group_by(StageResult.stage)
        )
        spans = [StageSpan(str(s), first, last, int(n)) for s, first, last, n in rows]
    order = rt.flow.names
    return sorted(spans, key=lambda s: order.index(s.stage) if s.stage in order else len(order))


async def failures(rt: Runtime, run_id: str, limit: int = 100) -> list[Failure]:
    async with rt.db.reader() as session:
        rows = await session.execute(
            select(StageResult, Document.url, Document.title)
            .join(Document, Document.id == StageResult.document_id)
            .where(StageResult.run_id == run_id, StageResult.status.in_(("failed", "skipped")))
            .order_by(StageResult.id)
            .limit(limit)
        )
        return [
            Failure(r.stage, r.status, r.detail, r.document_id, url, title)
            for r, url, title in rows
        ]

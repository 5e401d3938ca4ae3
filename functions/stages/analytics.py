"""Analytics stage: insights → daily rollups per source, after each run and on schedule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from shared.db.models import Document, Insight, Rollup, utcnow
from shared.db.upsert import upsert
from shared.messages import RollupSource
from shared.pipeline.analytics import DocFacts, rollup
from shared.runtime.stage import StageDeps, stage


def _scheduled(event: dict[str, Any]) -> RollupSource:
    return RollupSource(run_id=f"schedule-{event.get('id', 'unknown')}", source_id=None)


def _day(published: str | None, fallback: datetime) -> date:
    if published:
        try:
            return date.fromisoformat(published[:10])
        except ValueError:
            pass
    return fallback.date()


@stage("analytics", on_schedule=_scheduled)
async def handler(msg: RollupSource, deps: StageDeps) -> None:
    latest = (
        select(Insight.document_id, func.max(Insight.id).label("id"))
        .group_by(Insight.document_id)
        .subquery()
    )
    stmt = (
        select(Document, Insight)
        .join(latest, latest.c.document_id == Document.id)
        .join(Insight, Insight.id == latest.c.id)
    )
    if msg.source_id:
        stmt = stmt.where(Document.source_id == msg.source_id)
    rows = (await deps.session.execute(stmt)).all()
    facts = [
        DocFacts(
            source_id=doc.source_id,
            day=_day(doc.published, doc.fetched_at or doc.created_at),
            language=insight.language or doc.language,
            sentiment=insight.sentiment,
            keywords=tuple(insight.keywords),
        )
        for doc, insight in rows
    ]
    for day in rollup(facts):
        await upsert(
            deps.session,
            Rollup,
            {
                "source_id": day.source_id,
                "day": day.day,
                "documents": day.documents,
                "avg_sentiment": day.avg_sentiment,
                "languages": dict(day.languages),
                "top_keywords": [list(pair) for pair in day.top_keywords],
                "updated_at": utcnow(),
            },
            key=("source_id", "day"),
        )

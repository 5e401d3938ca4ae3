"""Rollup writes for the analytics stage: facts of analysed documents in, day rows out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Document, Insight, Rollup, Run, utcnow
from shared.db.upsert import upsert
from shared.pipeline.rollups import DayRollup, DocFacts, utc_day

# Insights whose summary, sentiment and entities are usable (structured output aside).
USABLE = ("ok", "invalid_output")


async def facts(
    session: AsyncSession,
    source_id: str | None,
    run_id: str | None = None,
    days: Collection[date] | None = None,
) -> list[DocFacts]:
    """Facts of each document's latest insight: of one source (or all), or of one run;
    with `days`, only of documents falling on those UTC days.

    Only light columns are read, never the documents' text.
    """
    latest = select(Insight.document_id, func.max(Insight.id).label("id"))
    if run_id is not None:
        latest = latest.where(Insight.run_id == run_id)
    newest = latest.group_by(Insight.document_id).subquery()
    stmt = (
        select(
            Document.source_id,
            Document.published,
            Document.fetched_at,
            Document.created_at,
            Document.language,
            Insight.language,
            Insight.sentiment,
            Insight.sentiment_label,
            Insight.keywords,
            Insight.entities,
            Insight.label,
            Insight.status,
        )
        .join(newest, newest.c.document_id == Document.id)
        .join(Insight, Insight.id == newest.c.id)
    )
    if source_id:
        stmt = stmt.where(Document.source_id == source_id)
    if days is not None:
        stmt = stmt.where(_may_fall_on(days))
    out: list[DocFacts] = []
    for row in (await session.execute(stmt)).all():
        day = utc_day(row.published, row.fetched_at or row.created_at)
        if days is not None and day not in days:
            continue
        usable = row.status in USABLE
        out.append(
            DocFacts(
                source_id=row.source_id,
                day=day,
                language=row[5] or row[4],
                sentiment=row.sentiment if usable else None,
                keywords=tuple(_strings(row.keywords)) if usable else (),
                sentiment_label=row.sentiment_label if usable else None,
                entities=_entities(row.entities) if usable else (),
                label=row.label if usable else None,
            )
        )
    return out


async def facts_to_roll_up(
    session: AsyncSession, run_id: str, source_id: str | None
) -> tuple[list[DocFacts], bool]:
    """What one analytics message rolls up, and whether it rewrites every day: after a run,
    the facts of its source on the days its documents fall on; for a message naming no
    existing run (the schedule), every day of `source_id` (or of every source)."""
    run = await session.get(Run, run_id)
    if run is None:
        return await facts(session, source_id), True
    on = {f.day for f in await facts(session, run.source_id, run_id=run.id)}
    return (await facts(session, run.source_id, days=on) if on else []), False


async def store(session: AsyncSession, days: Sequence[DayRollup]) -> None:
    """Upsert one rollup row per (source, day)."""
    for day in days:
        await upsert(
            session,
            Rollup,
            {
                "source_id": day.source_id,
                "day": day.day,
                "documents": day.documents,
                "avg_sentiment": day.avg_sentiment,
                "languages": dict(day.languages),
                "top_keywords": [list(pair) for pair in day.top_keywords],
                "sentiments": dict(day.sentiments),
                "top_entities": [list(item) for item in day.top_entities],
                "labels": dict(day.labels),
                "terms": dict(day.terms),
                "updated_at": utcnow(),
            },
            key=("source_id", "day"),
        )


async def drop_others(
    session: AsyncSession, source_id: str | None, keep: Collection[tuple[str, date]]
) -> int:
    """Delete rollup rows (of one source, or all) whose (source, day) is not in `keep`:
    days whose documents are gone or moved. Returns how many rows went."""
    stmt = select(Rollup.id, Rollup.source_id, Rollup.day)
    if source_id:
        stmt = stmt.where(Rollup.source_id == source_id)
    stale = [r.id for r in (await session.execute(stmt)).all() if (r.source_id, r.day) not in keep]
    for chunk in range(0, len(stale), 500):
        await session.execute(delete(Rollup).where(and_(Rollup.id.in_(stale[chunk : chunk + 500]))))
    return len(stale)


def _may_fall_on(days: Collection[date]) -> ColumnElement[bool]:
    # A superset of the documents on `days`, for the database to narrow with its indexes:
    # published (ISO text, compared as text) within a day of them, since a time zone
    # moves it by up to one day, or fetched (the fallback) on them. utc_day() decides.
    if not days:
        return false()
    lo, hi = min(days), max(days)
    start = datetime.combine(lo, time(), UTC)
    end = datetime.combine(hi + timedelta(days=1), time(), UTC)
    fetched = func.coalesce(Document.fetched_at, Document.created_at)
    return or_(
        and_(
            Document.published >= (lo - timedelta(days=1)).isoformat(),
            Document.published < (hi + timedelta(days=2)).isoformat(),
        ),
        and_(fetched >= start, fetched < end),
    )


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _entities(value: Any) -> tuple[tuple[str, str], ...]:
    # Stored as [{"text": ..., "type": ...}]; anything else (older rows, odd providers)
    # is skipped rather than failing the rollup.
    if not isinstance(value, list):
        return ()
    return tuple(
        (e["text"], e["type"])
        for e in value
        if isinstance(e, dict) and isinstance(e.get("text"), str) and isinstance(e.get("type"), str)
    )

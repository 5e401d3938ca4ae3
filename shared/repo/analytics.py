"""Analytics reads for the API: rollups of a period, their overview, rising terms, stages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.analytics_schemas import (
    DayRollupOut,
    EntityCount,
    Overview,
    Rollups,
    Sentiments,
    StageDay,
    StageOut,
    Stages,
    TermCount,
    TrendOut,
    Trends,
)
from shared.db.models import Rollup, Run, Source, StageResult
from shared.errors import BadRequestError, NotFoundError
from shared.pipeline.rollups import StageCount, ranked, stage_stats
from shared.pipeline.trends import DayTerms, rising_terms
from shared.ports import Runtime

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP = 10


def period(since: date | None, until: date | None, today: date | None = None) -> tuple[date, date]:
    """The inclusive UTC period a request asks for: by default the last 30 days.

    A period that ends before it starts, or spans more than a year, is refused with a
    message that says what is accepted.
    """
    end = until or today or datetime.now(UTC).date()
    start = since or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise BadRequestError(f"since ({start}) is after until ({end}); give since <= until")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadRequestError(f"the period spans more than {MAX_DAYS} days; narrow since/until")
    return start, end


async def _rows(rt: Runtime, source_id: str | None, start: date, end: date) -> Sequence[Rollup]:
    stmt = select(Rollup).where(Rollup.day >= start, Rollup.day <= end)
    if source_id:
        stmt = stmt.where(Rollup.source_id == source_id)
    async with rt.db.reader() as session:
        await _known(session, source_id)
        return (await session.scalars(stmt.order_by(Rollup.day, Rollup.source_id))).all()


async def _known(session: AsyncSession, source_id: str | None) -> None:
    # A mistyped source id must not read as a quiet source with no documents.
    if source_id and await session.get(Source, source_id) is None:
        raise NotFoundError(f"source {source_id} does not exist")


async def rollups(
    rt: Runtime, source_id: str | None, since: date | None, until: date | None
) -> Rollups:
    start, end = period(since, until)
    rows = await _rows(rt, source_id, start, end)
    return Rollups(since=start, until=end, source_id=source_id, items=[_day(r) for r in rows])


async def overview(
    rt: Runtime, source_id: str | None, since: date | None, until: date | None
) -> Overview:
    start, end = period(since, until)
    rows = await _rows(rt, source_id, start, end)
    sentiments: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    keywords: Counter[str] = Counter()
    entities: Counter[tuple[str, str]] = Counter()
    scored = weighted = 0.0
    for row in rows:
        sentiments.update(_counts(row.sentiments))
        languages.update(_counts(row.languages))
        labels.update(_counts(row.labels))
        keywords.update(_counts(row.terms) or dict(_pairs(row.top_keywords)))
        entities.update({(t, k): n for t, k, n in _triples(row.top_entities)})
        if row.avg_sentiment is not None:
            # Days are weighted by their documents, so the mean is over documents.
            weighted += row.avg_sentiment * row.documents
            scored += row.documents
    top_entities = sorted(entities.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return Overview(
        since=start,
        until=end,
        source_id=source_id,
        days=len({row.day for row in rows}),
        documents=sum(row.documents for row in rows),
        avg_sentiment=round(weighted / scored, 4) if scored else None,
        sentiments=Sentiments(**{k: sentiments[k] for k in ("positive", "neutral", "negative")}),
        languages=dict(ranked(languages)),
        labels=dict(ranked(labels)),
        top_keywords=[TermCount(term=t, documents=n) for t, n in ranked(keywords)[:TOP]],
        top_entities=[EntityCount(text=t, type=k, documents=n) for (t, k), n in top_entities],
    )


async def trends(
    rt: Runtime,
    source_id: str | None,
    until: date | None,
    window_days: int,
    baseline_days: int,
    min_count: int,
    limit: int,
) -> Trends:
    end = until or datetime.now(UTC).date()
    start = end - timedelta(days=window_days + baseline_days - 1)
    rows = await _rows(rt, source_id, start, end)
    by_day: dict[date, tuple[int, Counter[str]]] = {}
    for row in rows:  # all sources merge into one series when none is named
        documents, terms = by_day.get(row.day, (0, Counter()))
        terms.update(_counts(row.terms))
        by_day[row.day] = (documents + row.documents, terms)
    days = [DayTerms(day, n, terms) for day, (n, terms) in by_day.items()]
    found = rising_terms(
        days,
        until=end,
        window_days=window_days,
        baseline_days=baseline_days,
        min_count=min_count,
        limit=limit,
    )
    window_start = end - timedelta(days=window_days - 1)
    return Trends(
        source_id=source_id,
        until=end,
        window_days=window_days,
        baseline_days=baseline_days,
        window_documents=sum(d.documents for d in days if d.day >= window_start),
        baseline_documents=sum(d.documents for d in days if d.day < window_start),
        items=[
            TrendOut(
                term=t.term,
                documents=t.count,
                baseline_documents=t.baseline_count,
                rate=t.rate,
                baseline_rate=t.baseline_rate,
                lift=t.lift,
            )
            for t in found
        ],
    )


async def stages(
    rt: Runtime, source_id: str | None, since: date | None, until: date | None
) -> Stages:
    start, end = period(since, until)
    async with rt.db.reader() as session:
        await _known(session, source_id)
        day = _utc_date(session, StageResult.updated_at)
        stmt = (
            select(StageResult.stage, StageResult.status, day, func.count())
            .where(
                StageResult.updated_at >= datetime.combine(start, time(), UTC),
                StageResult.updated_at < datetime.combine(end + timedelta(days=1), time(), UTC),
            )
            .group_by(StageResult.stage, StageResult.status, day)
        )
        if source_id:
            stmt = stmt.join(Run, Run.id == StageResult.run_id).where(Run.source_id == source_id)
        rows = (await session.execute(stmt)).all()
    counted = [StageCount(stage, status, _as_date(d), n) for stage, status, d, n in rows]
    return Stages(
        since=start,
        until=end,
        source_id=source_id,
        items=[
            StageOut(
                stage=s.stage,
                totals=dict(s.totals),
                succeeded_per_day=round(s.per_day, 3),
                days=[StageDay(day=d, succeeded=ok, failed=bad) for d, ok, bad in s.days],
            )
            for s in stage_stats(counted, rt.flow.names)
        ],
    )


def _utc_date(session: AsyncSession, column: Any) -> ColumnElement[Any]:
    # SQLite keeps UTC text, so date() reads the UTC day; Postgres must be told the zone,
    # or the session's time zone would decide which day a late-evening row falls on.
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _day(row: Rollup) -> DayRollupOut:
    sentiments = _counts(row.sentiments)
    return DayRollupOut(
        source_id=row.source_id,
        day=row.day,
        documents=row.documents,
        avg_sentiment=row.avg_sentiment,
        sentiments=Sentiments(
            **{k: sentiments.get(k, 0) for k in ("positive", "neutral", "negative")}
        ),
        languages=_counts(row.languages),
        labels=_counts(row.labels),
        top_keywords=[TermCount(term=t, documents=n) for t, n in _pairs(row.top_keywords)],
        top_entities=[
            EntityCount(text=t, type=k, documents=n) for t, k, n in _triples(row.top_entities)
        ],
    )


# Rows written before migration 0006 have NULL in the new columns; these readers turn
# NULL (or anything unexpected) into empty values instead of failing the request.
def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int)}


def _pairs(value: Any) -> list[tuple[str, int]]:
    if not isinstance(value, list):
        return []
    return [(str(p[0]), int(p[1])) for p in value if isinstance(p, list) and len(p) == 2]


def _triples(value: Any) -> list[tuple[str, str, int]]:
    if not isinstance(value, list):
        return []
    return [(str(p[0]), str(p[1]), int(p[2])) for p in value if isinstance(p, list) and len(p) == 3]

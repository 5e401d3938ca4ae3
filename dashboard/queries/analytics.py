"""The Analytics page's figures, from the analytics repo the API uses (shared/repo/analytics):
daily rollups per source filled out to the whole period, their overview, rising terms, and how
many of each source's analysed documents fall outside the period (with the period that holds
them all), so a first run whose documents are dated weeks ago is explained, not hidden."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from shared.analytics_schemas import Overview, Trends
from shared.db.models import Rollup
from shared.ports import Runtime
from shared.repo import analytics

DAYS = 30
WINDOW_DAYS, BASELINE_DAYS, MIN_COUNT, TRENDS = 7, 28, 3, 10


@dataclass(frozen=True)
class SourceSeries:
    source_id: str
    name: str
    days: list[date]
    documents: list[int]
    sentiment: list[float | None]
    overview: Overview


@dataclass(frozen=True)
class Outside:
    """A source's analysed documents that fall outside the period shown, and the days that
    hold all of them (at most MAX_DAYS, the latest, when they span more)."""

    source_id: str
    name: str
    outside: int
    total: int
    since: date
    until: date
    clipped: bool


@dataclass(frozen=True)
class Analytics:
    since: date
    until: date
    overall: Overview
    trends: Trends
    sources: list[SourceSeries]
    outside: list[Outside] = field(default_factory=list)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def outside_of(
    spans: list[tuple[str, date, date, int]], inside: dict[str, int], names: dict[str, str]
) -> list[Outside]:
    """Per source with documents outside the period: how many, of how many, and the period
    holding them all (pure; `spans` are (source, first day, last day, documents))."""
    found = []
    for source_id, first, last, total in spans:
        outside = total - inside.get(source_id, 0)
        if outside <= 0:
            continue
        start = max(first, last - timedelta(days=analytics.MAX_DAYS - 1))
        name = names.get(source_id, source_id)
        found.append(Outside(source_id, name, outside, total, start, last, start > first))
    return sorted(found, key=lambda o: o.name)


async def spans(rt: Runtime) -> list[tuple[str, date, date, int]]:
    """Each source's first and last rollup day and its analysed documents, all time."""
    async with rt.db.reader() as session:
        rows = await session.execute(
            select(
                Rollup.source_id,
                func.min(Rollup.day),
                func.max(Rollup.day),
                func.sum(Rollup.documents),
            ).group_by(Rollup.source_id)
        )
        return [(str(s), first, last, int(n or 0)) for s, first, last, n in rows.all()]


async def analytics_page(
    rt: Runtime, names: dict[str, str], since: date | None = None, until: date | None = None
) -> Analytics:
    found = await analytics.rollups(rt, None, since, until)
    days = days_between(found.since, found.until)
    by_source: dict[str, dict[date, tuple[int, float | None]]] = {}
    for item in found.items:
        by_source.setdefault(item.source_id, {})[item.day] = (item.documents, item.avg_sentiment)
    series = []
    for source_id, per_day in sorted(by_source.items(), key=lambda kv: names.get(kv[0], kv[0])):
        series.append(
            SourceSeries(
                source_id=source_id,
                name=names.get(source_id, source_id),
                days=days,
                documents=[per_day.get(d, (0, None))[0] for d in days],
                sentiment=[per_day.get(d, (0, None))[1] for d in days],
                overview=await analytics.overview(rt, source_id, found.since, found.until),
            )
        )
    inside: dict[str, int] = {}
    for item in found.items:
        inside[item.source_id] = inside.get(item.source_id, 0) + item.documents
    return Analytics(
        outside=outside_of(await spans(rt), inside, names),
        since=found.since,
        until=found.until,
        overall=await analytics.overview(rt, None, found.since, found.until),
        trends=await analytics.trends(
            rt, None, found.until, WINDOW_DAYS, BASELINE_DAYS, MIN_COUNT, TRENDS
        ),
        sources=series,
    )

"""The Analytics page's figures, from the analytics repo the API uses (shared/repo/analytics):
daily rollups per source filled out to the whole period, their overview, and rising terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from shared.analytics_schemas import Overview, Trends
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
class Analytics:
    since: date
    until: date
    overall: Overview
    trends: Trends
    sources: list[SourceSeries]


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


async def analytics_page(rt: Runtime, names: dict[str, str]) -> Analytics:
    found = await analytics.rollups(rt, None, None, None)
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
    return Analytics(
        since=found.since,
        until=found.until,
        overall=await analytics.overview(rt, None, found.since, found.until),
        trends=await analytics.trends(
            rt, None, found.until, WINDOW_DAYS, BASELINE_DAYS, MIN_COUNT, TRENDS
        ),
        sources=series,
    )

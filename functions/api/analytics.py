"""Analytics API: rollups per source and UTC day, their overview, rising terms, stage counts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query
from mangum import Mangum

from shared.analytics_schemas import Overview, Rollups, Stages, Trends
from shared.handlers.http import TEXT_MIME_TYPES, create_app, runtime
from shared.ports import Runtime
from shared.repo import analytics

app = create_app("analytics", title="analytics")

SourceParam = Annotated[
    str | None, Query(max_length=64, description="One source's figures; all sources if absent.")
]
Since = Annotated[date | None, Query(description="First UTC day (default: 29 days before until).")]
Until = Annotated[date | None, Query(description="Last UTC day, inclusive (default: today).")]


@app.get("/api/v1/analytics")
async def overview(
    source_id: SourceParam = None,
    since: Since = None,
    until: Until = None,
    rt: Runtime = Depends(runtime),
) -> Overview:
    return await analytics.overview(rt, source_id, since, until)


@app.get("/api/v1/analytics/rollups")
async def rollups(
    source_id: SourceParam = None,
    since: Since = None,
    until: Until = None,
    rt: Runtime = Depends(runtime),
) -> Rollups:
    return await analytics.rollups(rt, source_id, since, until)


@app.get("/api/v1/analytics/trends")
async def trends(
    source_id: SourceParam = None,
    until: Until = None,
    window_days: Annotated[int, Query(ge=1, le=90, description="Days in the window.")] = 7,
    baseline_days: Annotated[
        int, Query(ge=1, le=365, description="Days before the window it is compared with.")
    ] = 28,
    min_count: Annotated[
        int, Query(ge=1, le=1000, description="Documents in the window a term needs.")
    ] = 3,
    limit: Annotated[int, Query(ge=1, le=100, description="Terms returned.")] = 20,
    rt: Runtime = Depends(runtime),
) -> Trends:
    return await analytics.trends(
        rt, source_id, until, window_days, baseline_days, min_count, limit
    )


@app.get("/api/v1/analytics/stages")
async def stages(
    source_id: SourceParam = None,
    since: Since = None,
    until: Until = None,
    rt: Runtime = Depends(runtime),
) -> Stages:
    return await analytics.stages(rt, source_id, since, until)


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

"""Analytics: rollups and rising terms as server-rendered SVG charts and tables."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from dashboard.charts import bar_chart, line_chart
from dashboard.queries.analytics import BASELINE_DAYS, WINDOW_DAYS, analytics_page
from dashboard.queries.documents import source_names
from dashboard.web import page, page_router
from shared.handlers.http import runtime
from shared.ports import Runtime
from shared.repo.analytics import MAX_DAYS

router = page_router()


@router.get("/analytics", include_in_schema=False)
async def show(
    request: Request,
    since: date | None = None,
    until: date | None = None,
    rt: Runtime = Depends(runtime),
) -> HTMLResponse:
    data = await analytics_page(rt, dict(await source_names(rt)), since, until)
    mood = data.overall.sentiments
    charts = []
    for s in data.sources:
        labels = [d.strftime("%m-%d") for d in s.days]
        charts.append(
            {
                "series": s,
                "volume": bar_chart(f"Documents per day, {s.name}", labels, s.documents),
                "mood": line_chart(
                    f"Average sentiment per day, {s.name}", labels, s.sentiment, -1.0, 1.0
                ),
            }
        )
    return page(
        request,
        rt,
        "analytics.html",
        {
            "a": data,
            "charts": charts,
            "split": bar_chart(
                "Documents per sentiment",
                ["positive", "neutral", "negative"],
                [mood.positive, mood.neutral, mood.negative],
            ),
            "window": WINDOW_DAYS,
            "baseline": BASELINE_DAYS,
            "chosen": since is not None or until is not None,
            "max_days": MAX_DAYS,
        },
    )

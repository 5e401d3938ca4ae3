"""Analytics: rollups per source and day as server-rendered SVG charts."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from dashboard.charts import bar_chart, line_chart
from dashboard.queries.analytics import series
from dashboard.web import page, page_router
from shared.runtime.deps import Runtime
from shared.runtime.http import runtime

router = page_router()
DAYS = 30


@router.get("/analytics", include_in_schema=False)
async def show(request: Request, rt: Runtime = Depends(runtime)) -> HTMLResponse:
    charts = []
    for s in await series(rt, DAYS):
        labels = [d.strftime("%m-%d") for d in s.days]
        charts.append(
            {
                "series": s,
                "volume": bar_chart(f"Documents per day, {s.name}", labels, s.documents),
                "mood": line_chart(
                    f"Average sentiment per day, {s.name}", labels, s.sentiment, -1.0, 1.0
                ),
                "languages": s.languages.most_common(8),
                "keywords": s.keywords.most_common(12),
            }
        )
    return page(request, rt, "analytics.html", {"charts": charts, "days": DAYS})

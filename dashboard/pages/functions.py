"""Functions: each function in serverless.yml with its last hour (invocations and p95 duration
per minute, as small SVG charts), its estimated cost, and what the database knows of its
documents; and one function's page with its latest invocations. Figures come from the
invocation ledger every process writes, so every dashboard instance shows the same."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from dashboard.charts import bar_chart, line_chart, spark_bars, spark_line
from dashboard.function_table import FunctionRow, load
from dashboard.queries.activity import Activity, activity, hour_of, recent
from dashboard.queries.functions import stage_records
from dashboard.web import page, page_router
from shared.cost_schemas import ESTIMATE
from shared.errors import ConfigError, NotFoundError
from shared.handlers.http import runtime
from shared.metering.prices import prices
from shared.ports import Runtime

router = page_router()


def trigger_of(fn: FunctionRow) -> str:
    parts = list(fn.routes[:2])
    if len(fn.routes) > 2:
        parts.append(f"+{len(fn.routes) - 2} more routes")
    if fn.queue:
        parts.append("SQS queue")
    parts += [f"schedule {s}" for s in fn.schedules]
    return " · ".join(parts) or "none"


def _table_or_problem() -> tuple[list[FunctionRow], str | None]:
    try:
        return load(), None
    except ConfigError as exc:
        return [], exc.detail


def charts(name: str, act: Activity | None, now: datetime) -> dict[str, Markup]:
    """The last hour of one function as two sparklines: invocations, and p95 duration."""
    minutes = act.minutes if act else hour_of(now)
    labels = [m.strftime("%H:%M") for m in minutes]
    return {
        "calls": spark_bars(
            f"{name}: invocations per minute, last hour",
            labels,
            act.invocations if act else [0] * len(labels),
        ),
        "p95": spark_line(
            f"{name}: p95 duration per minute, last hour",
            labels,
            act.p95_ms if act else [None] * len(labels),
            "ms",
        ),
    }


@router.get("/functions", include_in_schema=False)
async def show(request: Request, rt: Runtime = Depends(runtime)) -> HTMLResponse:
    functions, problem = _table_or_problem()
    now, at = datetime.now(UTC), prices()
    acts = await activity(rt, now, at)
    rows = [
        (fn, trigger_of(fn), acts.get(fn.name), charts(fn.name, acts.get(fn.name), now))
        for fn in functions
    ]
    return page(
        request,
        rt,
        "functions.html",
        {
            "rows": rows,
            "problem": problem,
            "records": await stage_records(rt),
            "prices": at,
            "estimate": ESTIMATE,
        },
        refresh=30,
    )


@router.get("/functions/{name}", include_in_schema=False)
async def show_one(request: Request, name: str, rt: Runtime = Depends(runtime)) -> HTMLResponse:
    functions, problem = _table_or_problem()
    fn = next((f for f in functions if f.name == name), None)
    if fn is None:
        raise NotFoundError(problem or f"there is no function {name!r} in serverless.yml")
    now, at = datetime.now(UTC), prices()
    act = (await activity(rt, now, at)).get(name)
    minutes = act.minutes if act else hour_of(now)
    labels = [m.strftime("%H:%M") for m in minutes]
    calls = act.invocations if act else [0] * len(labels)
    p95s = act.p95_ms if act else [None] * len(labels)
    top = max([v for v in p95s if v is not None] or [1.0])
    return page(
        request,
        rt,
        "function.html",
        {
            "fn": fn,
            "trigger": trigger_of(fn),
            "act": act,
            "calls": bar_chart(f"{name}: invocations per minute, last hour", labels, calls),
            "p95": line_chart(f"{name}: p95 duration per minute (ms)", labels, p95s, 0.0, top),
            "invocations": await recent(rt, name),
            "prices": at,
            "estimate": ESTIMATE,
        },
        refresh=10,
    )

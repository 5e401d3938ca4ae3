"""Functions: each function in serverless.yml with its trigger and figures, saying where each
figure comes from (the database for every instance, or this process's own metrics)."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from dashboard.figures import process_figures
from dashboard.function_table import FunctionRow, load
from dashboard.queries.functions import stage_records
from dashboard.web import page, page_router
from shared.errors import ConfigError
from shared.handlers.http import runtime
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


@router.get("/functions", include_in_schema=False)
async def show(request: Request, rt: Runtime = Depends(runtime)) -> HTMLResponse:
    try:
        functions, problem = load(), None
    except ConfigError as exc:
        functions, problem = [], exc.detail
    rows = [(fn, trigger_of(fn)) for fn in functions]
    return page(
        request,
        rt,
        "functions.html",
        {
            "rows": rows,
            "problem": problem,
            "metrics": process_figures(),
            "records": await stage_records(rt),
            "env": rt.settings.env,
        },
    )

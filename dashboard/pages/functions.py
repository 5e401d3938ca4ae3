"""Functions: each function in serverless.yml with its trigger and figures, saying where each
figure comes from (the database for every instance, or this process's own metrics)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from dashboard.figures import process_figures
from dashboard.queries.functions import stage_records
from dashboard.web import page, page_router
from shared.errors import ConfigError
from shared.handlers.http import runtime
from shared.ports import Runtime

if TYPE_CHECKING:
    from emulator.table import Function

router = page_router()
TABLE = Path(__file__).resolve().parents[2] / "serverless.yml"


@lru_cache(maxsize=4)
def _table(path: Path, mtime_ns: int) -> list[Function]:
    from emulator.table import load_table  # the emulator's reader; not in a Lambda package

    return list(load_table(path).functions.values())


def functions_of(path: Path = TABLE) -> list[Function]:
    """The table's functions, read again only when serverless.yml changes."""
    return _table(path, path.stat().st_mtime_ns)


def trigger_of(fn: Function) -> str:
    parts = [f"{r.method} {r.path}" for r in fn.routes[:2]]
    if len(fn.routes) > 2:
        parts.append(f"+{len(fn.routes) - 2} more routes")
    if fn.queue:
        parts.append("SQS queue")
    parts += [f"schedule {s}" for s in fn.schedules]
    return " · ".join(parts) or "none"


@router.get("/functions", include_in_schema=False)
async def show(request: Request, rt: Runtime = Depends(runtime)) -> HTMLResponse:
    try:
        functions, problem = functions_of(), None
    except ConfigError as exc:
        functions, problem = [], exc.detail
    except (OSError, ImportError):  # a Lambda package holds neither the table nor its reader
        functions, problem = [], "serverless.yml is not deployed with this dashboard"
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

"""Dashboard function: server-rendered pages over the runs and documents."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from mangum import Mangum

from shared.errors import NotFoundError
from shared.repo import documents, runs
from shared.runtime.deps import Runtime
from shared.runtime.http import create_app, runtime

HERE = Path(__file__).parent
STATIC = HERE / "static"
TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".js": "text/javascript"}

app = create_app("dashboard", title="dashboard")
templates = Jinja2Templates(directory=HERE / "templates")


@app.get("/", response_class=HTMLResponse, include_in_schema=False)
async def overview(request: Request, rt: Runtime = Depends(runtime)) -> HTMLResponse:
    recent_runs = await runs.list_(rt, 20, None)
    detailed = [await runs.get(rt, r.id) for r in recent_runs.items]
    docs = await documents.list_(rt, 25, None)
    return templates.TemplateResponse(
        request, "overview.html", {"runs": detailed, "documents": docs.items}
    )


@app.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file() or path.suffix not in TYPES:
        raise NotFoundError(f"no static asset {name!r}")
    return Response(
        path.read_bytes(),
        media_type=TYPES[path.suffix],
        headers={"cache-control": "public, max-age=300"},
    )


handler = Mangum(app, lifespan="off")

"""Dashboard function: server-rendered pages to watch and steer the platform.

The pages live in dashboard/pages/ (how to add one is in its docstring), the navigation in
dashboard/nav.py, templates in dashboard/templates/ and static files in dashboard/static/,
served here under content-hashed names (nginx serves them itself in the stack).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from mangum import Mangum
from starlette.exceptions import HTTPException

from dashboard import web
from dashboard.assets import IMMUTABLE, lookup
from dashboard.pages import ROUTERS
from shared.errors import NotFoundError, QuarryError
from shared.handlers.http import TEXT_MIME_TYPES, create_app

app = create_app("dashboard", title="dashboard")
app.add_exception_handler(QuarryError, web.quarry_error)
app.add_exception_handler(HTTPException, web.http_error)
app.add_exception_handler(RequestValidationError, web.validation_error)
app.add_middleware(web.SecurityHeaders)
for router in ROUTERS:
    app.include_router(router)


@app.get("/static/{name}", include_in_schema=False)
async def static(name: str, request: Request) -> Response:
    found = lookup(name)
    if found is None:
        raise NotFoundError(f"no static asset {name!r}")
    asset, hashed = found
    cache = IMMUTABLE if hashed else "public, max-age=300"
    return Response(
        asset.path.read_bytes(), media_type=asset.media_type, headers={"cache-control": cache}
    )


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

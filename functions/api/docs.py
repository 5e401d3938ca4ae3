"""Docs API: the merged OpenAPI document, built at package time, and Swagger UI over it.

Standard library only (serverless.yml gives it no layer): the document and Swagger UI's
assets (the `swagger-ui-dist` package, installed by npm in infra/swagger-ui) are packaged
with the function and served from it, under the same strict CSP as every page, so the page
loads nothing from elsewhere and runs no inline script.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from shared import problems
from shared.lambda_events.http import method_of, path_of, result
from shared.page_headers import PAGE_HEADERS

ROOT = Path(__file__).resolve().parents[2]  # /var/task in Lambda
# `quarry openapi --write` merges every HTTP function's document into openapi.json at the
# repository root; serverless.yml packages that file with this function.
DOCUMENT = ROOT / "openapi.json"
SWAGGER_UI = ROOT / "infra" / "swagger-ui" / "node_modules" / "swagger-ui-dist"
INSTALL = "install them with `make swagger-ui` (npm ci in infra/swagger-ui)"
CACHED = "public, max-age=300"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quarry API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head><body><div id="ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
<noscript><p>The interactive docs need JavaScript; the document itself is at
<a href="/api/openapi.json">/api/openapi.json</a>.</p></noscript>
</body></html>
"""
INIT = 'window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#ui"});\n'
# /api/docs/NAME: the package's file (or this function's own initialiser) and its type
ASSETS = {
    "swagger-ui.css": ("swagger-ui.css", "text/css; charset=utf-8"),
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js", "application/javascript; charset=utf-8"),
    "init.js": (None, "application/javascript; charset=utf-8"),
}


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _page(status: int, content_type: str, body: str) -> dict[str, Any]:
    headers = {"content-type": content_type, "cache-control": CACHED, **dict(PAGE_HEADERS)}
    return result(status, body, headers)


def _problem(status: int, detail: str, request_id: str) -> dict[str, Any]:
    body = problems.problem_bytes(status, detail, request_id)
    return result(status, body, {"content-type": problems.MEDIA_TYPE, **dict(PAGE_HEADERS)})


def _asset(name: str, request_id: str) -> dict[str, Any]:
    file, content_type = ASSETS[name]
    if file is None:
        return _page(200, content_type, INIT)
    try:
        return _page(200, content_type, _read(SWAGGER_UI / file))
    except OSError:
        return _problem(503, f"Swagger UI's {file} is not installed; {INSTALL}", request_id)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """GET /api/openapi.json, /api/docs and its assets; anything else is a 404 or 405 problem."""
    request_id = str(getattr(context, "aws_request_id", "") or "")
    path = path_of(event)
    asset = path.removeprefix("/api/docs/") if path.startswith("/api/docs/") else None
    if path not in ("/api/openapi.json", "/api/docs") and asset not in ASSETS:
        known = ", ".join(["/api/openapi.json", "/api/docs"])
        return _problem(404, f"no such path {path!r}; try {known}", request_id)
    if method_of(event) not in ("GET", "HEAD"):
        return _problem(405, f"{path} answers GET only", request_id)
    if asset is not None:
        return _asset(asset, request_id)
    if path == "/api/docs":
        return _page(200, "text/html; charset=utf-8", PAGE)
    return result(
        200, _read(DOCUMENT), {"content-type": "application/json", "cache-control": CACHED}
    )

"""Docs API: the merged OpenAPI document, built at package time, and its interactive page."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

# `quarry openapi --write` merges every HTTP function's document into openapi.json at the
# repository root; serverless.yml packages that file with this function (at /var/task).
DOCUMENT = Path(__file__).resolve().parents[2] / "openapi.json"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quarry API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#ui"});</script>
<noscript><p>The interactive docs need JavaScript; the document itself is at
<a href="/api/openapi.json">/api/openapi.json</a>.</p></noscript>
</body></html>
"""


@cache
def _document() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


def _path_of(event: dict[str, Any]) -> str:
    """The request path of an HTTP API (v2), REST API (v1), ALB or Function URL event."""
    context = event.get("requestContext") or {}
    http = context.get("http") if isinstance(context, dict) else None
    if isinstance(http, dict) and isinstance(http.get("path"), str):
        return str(http["path"])
    return str(event.get("rawPath") or event.get("path") or "")


def _method_of(event: dict[str, Any]) -> str:
    context = event.get("requestContext") or {}
    http = context.get("http") if isinstance(context, dict) else None
    if isinstance(http, dict) and isinstance(http.get("method"), str):
        return str(http["method"]).upper()
    return str(event.get("httpMethod") or "GET").upper()


def _response(status: int, content_type: str, body: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": content_type, "cache-control": "public, max-age=300"},
        "body": body,
        "isBase64Encoded": False,
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """GET /api/openapi.json and GET /api/docs; anything else is a problem+json 404 or 405."""
    path = _path_of(event)
    if path not in ("/api/openapi.json", "/api/docs"):
        return _problem(404, "Not found", f"no such path {path!r}; try /api/openapi.json")
    if _method_of(event) not in ("GET", "HEAD"):
        return _problem(405, "Method not allowed", f"{path} answers GET only")
    if path == "/api/docs":
        return _response(200, "text/html; charset=utf-8", PAGE)
    return _response(200, "application/json", _document())


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    return {
        "statusCode": status,
        "headers": {"content-type": "application/problem+json"},
        "body": body,
        "isBase64Encoded": False,
    }

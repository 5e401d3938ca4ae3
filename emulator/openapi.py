"""One OpenAPI document merged from every HTTP function's FastAPI app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator.table import Table, load_handler
from shared.errors import ConfigError

COMMITTED = Path("openapi.json")


def merge(table: Table) -> dict[str, Any]:
    """Merge the paths and component schemas of all HTTP functions; a path or schema
    defined differently by two functions is a table problem."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Quarry API", "version": "1"},
        "paths": {},
        "components": {"schemas": {}},
    }
    for fn in sorted(table.http(), key=lambda f: f.name):
        handler, _ = load_handler(fn)
        app = getattr(handler, "app", None)
        if app is None or not hasattr(app, "openapi"):
            continue
        part = app.openapi()
        for path, ops in part.get("paths", {}).items():
            for method, op in ops.items():
                if method in doc["paths"].get(path, {}):
                    raise ConfigError(
                        f"function {fn.name!r}: {method.upper()} {path} is "
                        "already defined by another function"
                    )
                op.setdefault("tags", [fn.name])
                doc["paths"].setdefault(path, {})[method] = op
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            known = doc["components"]["schemas"].setdefault(name, schema)
            if known != schema:
                raise ConfigError(
                    f"function {fn.name!r}: schema {name!r} differs from the "
                    "one another function defines"
                )
    doc["paths"] = dict(sorted(doc["paths"].items()))
    doc["components"]["schemas"] = dict(sorted(doc["components"]["schemas"].items()))
    return doc


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quarry API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#ui"});</script>
<noscript><p>The interactive docs need JavaScript; the document itself is at
<a href="/api/openapi.json">/api/openapi.json</a>.</p></noscript>
</body></html>
"""

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


def stale_notice(table: Table, committed: Path = COMMITTED) -> str | None:
    """What to say when the committed document, which the docs function serves (as it is
    packaged for AWS), differs from the one the functions now describe; None when current."""
    try:
        current = committed.read_text(encoding="utf-8") == render(merge(table))
    except OSError:
        current = False
    if current:
        return None
    return (
        f"{committed} differs from what the HTTP functions describe, and /api/docs serves it "
        "as AWS would: run `quarry openapi --write`"
    )

"""The committed OpenAPI document is the one the functions produce."""

from __future__ import annotations

import json

from emulator.openapi import merge, render
from emulator.table import load_table
from tests.conftest import ROOT


def test_openapi_committed_document_is_current() -> None:
    produced = render(merge(load_table(ROOT / "serverless.yml")))
    committed = (ROOT / "openapi.json").read_text()
    assert produced == committed, "openapi.json is stale: run `quarry openapi --write`"


def test_openapi_covers_every_http_route_of_the_table() -> None:
    table = load_table(ROOT / "serverless.yml")
    doc = json.loads((ROOT / "openapi.json").read_text())
    for fn in table.http():
        if fn.name in ("dashboard", "docs"):  # docs serves this document itself
            continue
        for route in fn.routes:
            assert route.method.lower() in doc["paths"][route.path], route.key
    assert all(path.startswith("/api/v1/") for path in doc["paths"])

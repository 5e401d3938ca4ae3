"""The docs function serves the API docs locally as in AWS: the gateway routes /api/openapi.json,
/api/docs and Swagger UI's assets to it (it no longer answers them itself), the page loads
nothing from elsewhere and runs no inline script, under the dashboard's CSP."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from emulator.openapi import stale_notice
from emulator.table import load_table
from shared.page_headers import CSP
from tests.conftest import ROOT

UI = ROOT / "infra" / "swagger-ui" / "node_modules" / "swagger-ui-dist"


async def test_docs_function_serves_the_committed_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == (ROOT / "openapi.json").read_text()
    assert response.headers["cache-control"] == "public, max-age=300"  # the function answered


async def test_docs_page_loads_only_its_own_assets_under_the_csp(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in CSP
    assert "http" not in page.text.replace("/api/openapi.json", "")  # no CDN, no other origin
    assert re.findall(r"<script>", page.text) == []  # no inline script
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources == [
        "data:,",  # no favicon request
        "/api/docs/swagger-ui.css",
        "/api/docs/swagger-ui-bundle.js",
        "/api/docs/init.js",
        "/api/openapi.json",
    ]
    for path, kind in [
        ("/api/docs/swagger-ui.css", "text/css"),
        ("/api/docs/swagger-ui-bundle.js", "application/javascript"),
        ("/api/docs/init.js", "application/javascript"),
    ]:
        asset = await client.get(path)
        assert asset.status_code == 200, path
        assert asset.headers["content-type"].startswith(kind), path
        assert asset.headers["content-security-policy"] == CSP
    bundle = await client.get("/api/docs/swagger-ui-bundle.js")
    assert bundle.text == (UI / "swagger-ui-bundle.js").read_text()  # the package's own file
    init = await client.get("/api/docs/init.js")
    assert '"/api/openapi.json"' in init.text


async def test_docs_function_refuses_other_paths_and_methods_with_problems(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/api/docs/../../serverless.yml")
    assert missing.status_code == 404
    other = await client.get("/api/docs/index.html")
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    body = other.json()
    assert body["type"] == "https://quarry.dev/problems/not-found"
    assert body["title"] == "Not found"
    assert "/api/docs/index.html" in body["detail"]
    unrouted = await client.get("/api/nowhere")  # the gateway's own 404: the same type URI
    assert unrouted.status_code == 404
    assert unrouted.json()["type"] == body["type"]


def test_docs_stale_document_is_named_at_start_up(tmp_path: Path) -> None:
    table = load_table(ROOT / "serverless.yml")
    assert stale_notice(table, ROOT / "openapi.json") is None
    old = tmp_path / "openapi.json"
    old.write_text("{}\n")
    notice = stale_notice(table, old)
    assert notice is not None
    assert "/api/docs serves it" in notice
    assert "run `quarry openapi --write`" in notice

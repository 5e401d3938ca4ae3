"""/api/docs in headless Chromium: Swagger UI, served by the docs function from its own
packaged assets, renders every operation of the committed OpenAPI document under the strict
CSP (script-src 'self', no inline script or style), with no request leaving this origin."""

from __future__ import annotations

import json

from playwright.sync_api import Page, Request, expect

from tests.conftest import ROOT
from tests.e2e.conftest import shoot
from tests.e2e.server import DashboardServer
from tests.e2e.test_dashboard_e2e import watch


def test_e2e_api_docs_render_under_the_csp_from_this_origin_only(
    page: Page, server: DashboardServer
) -> None:
    errors, dialogs = watch(page)
    requested: list[str] = []

    def on_request(request: Request) -> None:
        requested.append(request.url)

    page.on("request", on_request)
    response = page.goto("/api/docs")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    document = json.loads((ROOT / "openapi.json").read_text())
    operations = sum(len(item) for item in document["paths"].values())
    blocks = page.locator(".opblock")
    expect(blocks.first).to_be_visible()
    expect(blocks).to_have_count(operations)
    expect(page.locator(".info .title")).to_contain_text("Quarry API")
    shoot(page, "api-docs")
    assert errors == []  # a CSP violation would be reported here
    assert dialogs == []
    assert len(requested) >= 4  # the page, its stylesheet, two scripts, the document
    assert [url for url in requested if not url.startswith(server.url)] == []

"""The dashboard's pages and searches on Postgres, as the stack runs them."""

from __future__ import annotations

import httpx

from emulator.platform import embedded
from shared.config import Settings
from tests.conftest import ROOT
from tests.e2e.htmlcheck import problems
from tests.e2e.seed import seed

pytest_plugins = ("tests.integration.pg",)


async def test_dashboard_pages_and_searches_on_postgres(
    settings: Settings, migrated_postgres_url: str
) -> None:
    cfg = settings.model_copy(update={"database_url": migrated_postgres_url})
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as platform:
        seeded = await seed(platform.runtime, documents=4)
        transport = httpx.ASGITransport(app=platform.gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as web:
            for path in (
                "/",
                "/functions",
                "/runs?state=succeeded",
                f"/runs/{seeded.run_id}",
                f"/documents/{seeded.hostile_id}",
                f"/sources/{seeded.source_id}",
                "/analytics",
                "/dead-letters?stage=extraction",
            ):
                page = await web.get(path)
                assert page.status_code == 200, (path, page.text[:300])
                assert problems(page.text) == [], path
            searches = {
                "q=story 3": 1,
                "language=de": 2,
                "sentiment=negative": 1,
                "label=HARBOUR": 1,
                "label=<script>window.pwned=17</script>economy": 1,
                f"source_id={seeded.source_id}": 5,
            }
            for query, found in searches.items():
                page = await web.get(f"/documents?{query}")
                assert page.status_code == 200, query
                assert page.text.count('href="/documents/') == found, query
            analytics = (await web.get("/analytics")).text
            assert "Ashford &lt;b&gt;Rovers&lt;/b&gt; (ORG) 2" in analytics

"""Dashboard pages that read the invocation ledger and the analytics period: the Functions
page's charts and costs, a function's page, a run's estimated cost, and documents outside the
Analytics page's period."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from emulator.platform import Embedded, embedded
from shared.config import Settings
from shared.db.models import Rollup, Run, Source
from shared.handlers.invocation import declare_memory, invocation
from shared.metering.ledger import LEDGER
from tests.conftest import ROOT
from tests.e2e.htmlcheck import problems

pytest_plugins = ("tests.integration.pg",)


@pytest.fixture
async def web(platform: Embedded) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=platform.gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
        yield c


async def ran(platform: Embedded, run_id: str = "run-ledger") -> None:
    """A source, a finished run of it, and three extraction invocations for it, flushed."""
    LEDGER.take()  # records other tests left in this process's buffer are not this test's
    async with platform.runtime.db.writer() as session:
        session.add(Source(id="src-ledger", name="Ledger <i>news</i>", kind="urls", urls=[]))
        await session.flush()
        session.add(Run(id=run_id, source_id="src-ledger", state="succeeded", discovered=3))
    declare_memory("extraction", 1024)
    for n in range(3):
        with invocation("extraction", "sqs", f"req-ledger-{n}") as inv:
            inv.received_sqs(500)
            inv.for_run(run_id)
            if n == 2:
                inv.outcome = "error"
    await LEDGER.flush(platform.runtime.db)


async def test_dashboard_functions_page_charts_each_functions_last_hour_and_its_cost(
    platform: Embedded, web: httpx.AsyncClient
) -> None:
    await ran(platform)
    page = await web.get("/functions")
    assert page.status_code == 200
    assert problems(page.text) == []
    rows = re.findall(r"<tr>\s*<td class=\"name\">.*?</tr>", page.text, re.S)
    assert len(rows) == len(platform.table.functions)
    extraction = next(r for r in rows if 'href="/functions/extraction"' in r)
    assert extraction.count('<svg class="spark"') == 2
    assert re.search(r"<title>\d\d:\d\d: 3</title>", extraction)  # three in this minute
    assert "3 invocations" in extraction
    assert "1 errors" in extraction
    assert re.search(r"\$0\.\d{6} per 1,000 invocations", extraction)
    assert "from 3 invocations:" in extraction
    health = next(r for r in rows if 'href="/functions/health"' in r)
    assert "no invocations in the last day" in health
    assert "0 invocations" in health


async def test_dashboard_ledger_pages_on_postgres(
    settings: Settings, migrated_postgres_url: str
) -> None:
    """Postgres sums bigints as numeric: the pages must read them as the figures they are."""
    cfg = settings.model_copy(update={"database_url": migrated_postgres_url})
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as platform:
        await ran(platform)
        transport = httpx.ASGITransport(app=platform.gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as web:
            pages = {p: await web.get(p) for p in ("/functions", "/functions/extraction")}
            pages["/runs/run-ledger"] = await web.get("/runs/run-ledger")
            api = (await web.get("/api/v1/runs/run-ledger")).json()
    for path, page in pages.items():
        assert page.status_code == 200, (path, page.text[:300])
        assert problems(page.text) == [], path
    assert "from 3 invocations:" in pages["/functions"].text
    assert api["cost"]["usage"]["invocations"] == 3
    assert api["cost"]["usage"]["sqs_requests"] == 6


async def test_dashboard_function_page_lists_invocations_linked_to_their_run(
    platform: Embedded, web: httpx.AsyncClient
) -> None:
    await ran(platform)
    page = await web.get("/functions/extraction")
    assert page.status_code == 200
    assert problems(page.text) == []
    assert page.text.count('href="/runs/run-ledger"><code>req-ledger-') == 3
    assert page.text.count(">error</span>") == 1
    assert re.search(r"[\d,]+ billed ms × 1024 MB = [\d.]+ GB-s \(x86_64\)", page.text)
    missing = await web.get("/functions/no-such-function")
    assert missing.status_code == 404
    assert "there is no function &#39;no-such-function&#39; in serverless.yml" in missing.text


async def test_dashboard_run_page_shows_the_estimated_cost_and_its_inputs(
    platform: Embedded, web: httpx.AsyncClient
) -> None:
    await ran(platform)
    page = await web.get("/runs/run-ledger")
    assert page.status_code == 200
    assert problems(page.text) == []
    section = page.text.split("<h2>Estimated cost</h2>", 1)[1].split("<h2>Failures</h2>", 1)[0]
    assert "3 Lambda, 0 HTTP API" in section
    assert "6 SQS requests" in section  # each invocation: a receive and a delete
    assert re.search(r"<strong>0\.\d{6}</strong>", section)
    assert re.search(r"\$0\.\d{4} per 1,000 documents", section)
    assert 'href="/functions/extraction"' in section
    assert "not a bill" in section


async def test_dashboard_analytics_says_how_many_documents_lie_outside_the_period(
    platform: Embedded, web: httpx.AsyncClient
) -> None:
    today = date.today()
    days = [today - timedelta(days=n) for n in (2, 100, 130)]
    async with platform.runtime.db.writer() as session:
        session.add(Source(id="src-old", name="Old <b>news</b>", kind="urls", urls=[]))
        await session.flush()
        for n, day in enumerate(days):
            session.add(
                Rollup(source_id="src-old", day=day, documents=n + 1, languages={}, top_keywords=[])
            )
    page = await web.get("/analytics")
    assert page.status_code == 200
    assert problems(page.text) == []
    notice = re.search(r'<p class="notice" role="status">(.*?)</p>', page.text, re.S)
    assert notice is not None
    since, until = days[2].isoformat(), days[0].isoformat()
    assert notice.group(1).startswith(
        "5 of the 6 analysed documents of Old &lt;b&gt;news&lt;/b&gt; lie outside this period: "
        f"the source's documents are dated {since} to {until}."
    )
    link = f"/analytics?since={since}&amp;until={until}"
    assert f'<a href="{link}">Show them all</a>' in notice.group(1)
    whole = await web.get(link.replace("&amp;", "&"))
    assert "6 documents on 3 days" in whole.text
    assert 'class="notice"' not in whole.text


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("since=2026-02-01&until=2026-01-01", 400, "is after until"),
        ("since=2020-01-01&until=2026-01-01", 400, "spans more than 366 days"),
        ("since=yesterday", 400, "since"),
    ],
)
async def test_dashboard_analytics_refuses_a_bad_period_saying_why(
    web: httpx.AsyncClient, query: str, status: int, message: str
) -> None:
    page = await web.get(f"/analytics?{query}")
    assert page.status_code == status
    assert message in page.text
    assert "Traceback" not in page.text

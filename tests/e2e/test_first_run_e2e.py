"""A first run as a new user sees it: the demo pipeline on an empty database, then the
Analytics page (the demo's analysed documents, or how many lie outside the period and a link
to them all), the Functions page on a laptop screen, and a function's latest invocations.
Screenshots at laptop and phone widths go to .quarry/artifacts/screenshots/."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from emulator.demo import serve_site
from shared.config_load import load_settings
from tests.e2e.conftest import shoot
from tests.e2e.htmlcheck import problems
from tests.e2e.server import DashboardServer

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DEADLINE_S = 90.0


def wait_for(what: str, check: Any, deadline_s: float = DEADLINE_S) -> Any:
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {deadline_s:.0f} s waiting for {what}; last: {last!r}")


class FirstRun:
    def __init__(self, server: DashboardServer, db: Path, run: dict[str, Any]) -> None:
        self.server, self.db, self.run = server, db, run

    @property
    def analysed(self) -> int:
        return int(self.run["stages"]["intelligence"]["succeeded"])

    def invocations(self, function: str) -> int:
        """The function's invocations in the ledger (a stage's take a batch of records each)."""
        with closing(sqlite3.connect(self.db)) as conn:
            (n,) = conn.execute(
                "SELECT count(*) FROM invocations WHERE function = ?", (function,)
            ).fetchone()
        return int(n)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstRun]:
    """An empty platform that ran the demo site through all four stages, as `make dev` does."""
    folder = tmp_path_factory.mktemp("first-run")
    with serve_site() as site:
        settings = load_settings(
            {
                "QUARRY_ENV": "test",
                "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/quarry.db",
                "QUARRY_SECRET_KEY": "e2e-first-run-secret-0123456789abcdef",
                "QUARRY_FETCH_ALLOW_HOSTS": site.split("//", 1)[1],
            }
        )
        with (
            DashboardServer(settings, seeded=False) as srv,
            httpx.Client(base_url=srv.url, timeout=30) as api,
        ):
            source = api.post(
                "/api/v1/sources",
                json={"name": "Quarry Gazette (demo site)", "kind": "site", "url": site + "/"},
            )
            assert source.status_code == 201, source.text
            started = api.post("/api/v1/runs", json={"source_id": source.json()["id"]})
            assert started.status_code == 202, started.text
            run_id = started.json()["id"]

            def final() -> dict[str, Any] | None:
                run: dict[str, Any] = api.get(f"/api/v1/runs/{run_id}").json()
                return run if run["state"] not in ("queued", "running") else None

            run = wait_for(f"the demo run {run_id} to finish", final)
            assert run["state"] == "succeeded", run
            done = FirstRun(srv, folder / "quarry.db", run)

            def rolled_up() -> bool:  # the analytics stage runs once the run is final
                with closing(sqlite3.connect(done.db)) as conn:
                    (n,) = conn.execute(
                        "SELECT coalesce(sum(documents), 0) FROM rollups"
                    ).fetchone()
                return int(n) == done.analysed

            def metered() -> bool:  # the ledger is written every second
                cost = api.get(f"/api/v1/runs/{run_id}").json()["cost"]
                return "analytics" in [f["function"] for f in cost["functions"]]

            wait_for(f"rollups of all {done.analysed} analysed documents", rolled_up)
            wait_for("the analytics invocation in the run's cost", metered)
            yield done


def tab(browser: Browser, first_run: FirstRun, viewport: dict[str, int]) -> Page:
    context = browser.new_context(base_url=first_run.server.url, viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(30_000)  # generous for a loaded machine
    return page


def fits(page: Page, width: int) -> None:
    """Nothing wider than the window, and no table scrolled sideways within the page."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    overflowing = page.evaluate(
        "Array.from(document.querySelectorAll('.scroll, table'))"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).length"
    )
    assert overflowing == 0


def heading_documents(page: Page) -> int:
    text = page.locator("h2", has_text="All sources").inner_text()
    match = re.search(r"(\d+) documents", text)
    assert match is not None, text
    return int(match.group(1))


def test_e2e_first_run_analytics_shows_the_demos_documents_or_where_they_are(
    browser: Browser, first_run: FirstRun
) -> None:
    page = tab(browser, first_run, LAPTOP)
    assert page.goto("/analytics") is not None
    assert problems(page.content()) == []
    shoot(page, "first-run-analytics")
    notice = page.locator("p.notice", has_text="lie outside this period")
    shown = heading_documents(page) if page.locator("h2", has_text="All sources").count() else 0
    if shown == first_run.analysed:
        expect(notice).to_have_count(0)  # the demo's dates fall in the default window
    else:
        expect(notice).to_have_count(1)
        outside = int(notice.inner_text().split(" of the ", 1)[0])
        assert f"of the {first_run.analysed} analysed documents" in notice.inner_text()
        assert shown + outside == first_run.analysed
        notice.get_by_role("link").click()
        page.wait_for_url(re.compile(r"/analytics\?since=\d{4}-\d\d-\d\d&until=\d{4}-\d\d-\d\d$"))
        assert heading_documents(page) == first_run.analysed
        expect(page.locator("p.notice", has_text="lie outside")).to_have_count(0)
        shoot(page, "first-run-analytics-whole-period")
    fits(page, LAPTOP["width"])
    phone = tab(browser, first_run, PHONE)
    phone.goto(page.url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(phone, "first-run-analytics-phone")


def test_e2e_functions_page_fits_a_laptop_screen_with_its_charts(
    browser: Browser, first_run: FirstRun
) -> None:
    page = tab(browser, first_run, LAPTOP)
    page.goto("/functions")
    assert problems(page.content()) == []
    fits(page, LAPTOP["width"])
    rows = page.locator("table.fns tbody tr")
    assert rows.count() >= 15  # every function of serverless.yml
    assert page.locator("table.fns svg.spark").count() == 2 * rows.count()
    extraction = page.locator("table.fns tbody tr", has_text="extraction").first
    invoked = first_run.invocations("extraction")
    assert 0 < invoked <= first_run.run["discovered"]  # batches of up to batchSize pages
    assert f"{invoked} invocations" in extraction.inner_text()
    assert "per 1,000 invocations" in extraction.inner_text()
    bars = extraction.locator("svg.spark rect.bar title").all_text_contents()
    assert sum(int(t.rsplit(": ", 1)[1]) for t in bars) == invoked
    shoot(page, "first-run-functions")
    phone = tab(browser, first_run, PHONE)
    phone.goto("/functions")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(phone, "first-run-functions-phone")


def test_e2e_a_functions_page_lists_its_invocations_linked_to_the_run(
    browser: Browser, first_run: FirstRun
) -> None:
    page = tab(browser, first_run, LAPTOP)
    page.goto("/functions")
    page.locator("table.fns a", has_text="extraction").click()
    page.wait_for_url("**/functions/extraction")
    assert problems(page.content()) == []
    fits(page, LAPTOP["width"])
    rows = page.locator("h2:has-text('Latest invocations') + div table tbody tr")
    assert rows.count() == first_run.invocations("extraction")
    first = rows.first.inner_text()
    assert "success" in first
    assert re.search(r"\d[\d,]*\.\d ms", first) is not None
    cold = [rows.nth(i).locator("td").nth(4).inner_text() for i in range(rows.count())]
    assert set(cold) <= {"yes", "no"}
    assert cold.count("yes") <= 1  # at most the first, if this process had not run it yet
    rows.first.get_by_role("link").click()
    page.wait_for_url(f"**/runs/{first_run.run['id']}")
    expect(page.locator("h2", has_text="Estimated cost")).to_have_count(1)
    total = page.locator("table.cost tr", has_text="total").first.inner_text()
    assert re.search(r"0\.\d{6}", total) is not None
    shoot(page, "first-run-run-cost")

"""The dashboard in headless Chromium: every page, the forms, the links, hostile content that
must not run, and the same pages with JavaScript off."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect

from dashboard.nav import NAV
from tests.e2e.conftest import shoot
from tests.e2e.htmlcheck import problems
from tests.e2e.server import DashboardServer


def watch(tab: Page) -> tuple[list[str], list[str]]:
    """Console errors (CSP violations show up here) and dialogs the page opens."""
    errors: list[str] = []
    dialogs: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(msg.text)

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("console", on_console)
    tab.on("dialog", on_dialog)
    return errors, dialogs


def test_e2e_every_page_renders_accessibly_and_is_screenshotted(
    page: Page, server: DashboardServer
) -> None:
    seeded = server.seeded
    assert seeded is not None
    errors, dialogs = watch(page)
    pages = {
        "overview": "/",
        "functions": "/functions",
        "runs": "/runs",
        "run": f"/runs/{seeded.run_id}",
        "documents": "/documents",
        "document": f"/documents/{seeded.document_id}",
        "sources": "/sources",
        "source-new": "/sources/new",
        "source": f"/sources/{seeded.source_id}",
        "analytics": "/analytics",
        "dead-letters": "/dead-letters",
        "webhooks": "/webhooks",
        "alerts": "/alerts",
        "not-found": "/no/such/page",
    }
    for name, path in pages.items():
        response = page.goto(path)
        assert response is not None
        assert response.status == (404 if name == "not-found" else 200), path
        expect(page.locator("h1")).to_have_count(1)
        assert problems(page.content()) == [], path
        assert page.locator("html").get_attribute("lang") == "en"
        assert shoot(page, name).stat().st_size > 1000
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than it
    for name, path in pages.items():
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        if name in ("overview", "documents", "document", "source-new", "analytics"):
            shoot(page, f"{name}-phone")
    assert [e for e in errors if "404 (Not Found)" not in e] == []  # the not-found page's own
    assert dialogs == []


def test_e2e_static_assets_load_from_hashed_urls_cached_forever(page: Page) -> None:
    loaded: dict[str, tuple[int, str]] = {}
    page.on(
        "response",
        lambda r: loaded.__setitem__(r.url, (r.status, r.headers.get("cache-control", ""))),
    )
    page.goto("/")
    page.wait_for_load_state("load")
    assets = {url: got for url, got in loaded.items() if "/static/" in url}
    assert {re.sub(r"\.[0-9a-f]{8}\.", ".HASH.", url.split("/static/")[1]) for url in assets} >= {
        "quarry.HASH.css",
        "refresh.HASH.js",
    }
    assert set(assets.values()) == {(200, "public, max-age=31536000, immutable")}
    assert page.locator('meta[name="quarry-refresh"]').get_attribute("content") == "10"
    assert page.evaluate("getComputedStyle(document.querySelector('.top')).display") == "flex"


def test_e2e_navigation_links_reach_every_page(page: Page) -> None:
    page.goto("/")
    for entry in NAV:
        page.get_by_role("navigation", name="Main").get_by_role("link", name=entry.label).click()
        expect(page).to_have_url(re.compile(re.escape(entry.path) + r"$"))
        expect(page.locator('nav a[aria-current="page"]')).to_have_text(entry.label)
    page.goto("/documents")
    page.get_by_role("link", name="Harbour story 1").click()
    expect(page.locator("h1")).to_have_text("Harbour story 1")
    page.get_by_role("link", name=re.compile(r"^[0-9a-f]{32}$")).first.click()
    expect(page).to_have_url(re.compile(r"/sources/[0-9a-f]{32}$"))


def test_e2e_hostile_content_runs_nothing(page: Page, server: DashboardServer) -> None:
    seeded = server.seeded
    assert seeded is not None
    errors, dialogs = watch(page)
    for path in (
        f"/documents/{seeded.hostile_id}",
        "/documents",
        "/",
        f"/runs/{seeded.run_id}",
        "/dead-letters",
        "/analytics",
    ):
        page.goto(path)
        assert page.evaluate("typeof window.pwned") == "undefined", path
        assert page.title() != "pwned"
    page.goto(f"/documents/{seeded.hostile_id}")
    assert page.title().startswith("<script>window.pwned=1;")  # shown as text, not run
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs
    assert all(re.match(r"^(/|https?://|#)", h) for h in hrefs), hrefs
    external = page.locator('main a[href^="http"]')
    for i in range(external.count()):
        assert "noopener" in (external.nth(i).get_attribute("rel") or "")
    page.get_by_text("click me").click()  # plain text: clicking it does nothing
    assert page.evaluate("typeof window.pwned") == "undefined"
    # Were something to slip through, the CSP would still refuse inline script and handlers.
    page.evaluate(
        """() => {
        const s = document.createElement("script");
        s.textContent = "window.pwned = 'inline'";
        document.body.appendChild(s);
        const i = document.createElement("img");
        i.setAttribute("onerror", "window.pwned = 'handler'");
        i.src = "data:image/png;base64,broken";
        document.body.appendChild(i);
    }"""
    )
    page.wait_for_function("() => document.images[document.images.length - 1].complete")
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert any("Content Security Policy" in e for e in errors)
    assert dialogs == []
    assert not [e for e in errors if "pwned" in e and "Content Security Policy" not in e]


def test_e2e_source_forms_create_edit_run_and_replay(page: Page, server: DashboardServer) -> None:
    seeded = server.seeded
    assert seeded is not None
    page.goto("/sources")
    page.get_by_role("link", name="Add a source").click()
    page.get_by_label("Name", exact=True).fill("Demo gazette")
    page.get_by_label("Kind", exact=True).select_option("site")
    page.get_by_label("URL", exact=False).first.fill("ftp://files.example/")
    page.get_by_role("button", name="Create source").click()
    expect(page.locator(".errors")).to_contain_text("The source was not saved")
    page.get_by_label("URL", exact=False).first.fill(server.site + "/")
    page.get_by_role("button", name="Create source").click()
    expect(page.locator(".notice")).to_have_text("Source created.")
    page.get_by_label("Name", exact=True).fill("Demo gazette (renamed)")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Source saved.")
    expect(page.locator("h1")).to_have_text("Demo gazette (renamed)")
    shoot(page, "source-saved")
    page.get_by_role("button", name="Start a run").click()
    expect(page.locator(".notice")).to_have_text("Run started.")
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f]{32}\?notice=started$"))
    shoot(page, "run-started")
    cancel = page.get_by_role("button", name="Cancel this run")
    if cancel.count():  # unless the demo run already finished: it stops, and teardown is quick
        cancel.click()
        expect(page.locator(".notice")).to_have_text("Run cancelled.")
        expect(page.locator("h1 .state")).to_have_text("cancelled")
    page.goto("/dead-letters")
    page.get_by_role("button", name="Replay").first.click()
    expect(page.locator(".notice")).to_have_text("Message sent to its stage again.")
    page.get_by_role("button", name="Discard").first.click()
    expect(page.locator(".notice")).to_have_text("Dead letter discarded.")
    shoot(page, "dead-letters-after")


def test_e2e_pages_and_forms_work_with_javascript_off(
    browser: Browser, server: DashboardServer
) -> None:
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    tab = context.new_page()
    tab.goto("/documents")
    tab.get_by_label("Language").select_option("de")
    tab.get_by_role("button", name="Search").click()
    expect(tab).to_have_url(re.compile(r"language=de"))
    languages = tab.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert languages
    assert set(languages) == {"de"}
    tab.goto("/sources/new")
    tab.get_by_label("Name", exact=True).fill("No-JS source")
    tab.get_by_label("Kind", exact=True).select_option("feed")
    tab.get_by_label("URL", exact=False).first.fill("https://feeds.example/rss")
    tab.get_by_role("button", name="Create source").click()
    expect(tab.locator(".notice")).to_have_text("Source created.")
    shoot(tab, "no-js-source-created")
    context.close()

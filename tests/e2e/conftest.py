"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the dashboard
served from the embedded platform; screenshots go to .quarry/artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from emulator.demo import serve_site
from shared.config_load import load_settings
from tests.conftest import ROOT
from tests.e2e.server import DashboardServer

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / ".quarry" / "artifacts" / "screenshots"


# Per module too: the platform installs its runtime process-wide, so it must be gone before
# other tiers' platforms start in the same pytest session.
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    folder = tmp_path_factory.mktemp("e2e")
    with serve_site() as site:
        settings = load_settings(
            {
                "QUARRY_ENV": "test",
                "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/quarry.db",
                "QUARRY_SECRET_KEY": "e2e-secret-that-must-never-leak-0123456789",
                "QUARRY_FETCH_ALLOW_HOSTS": site.split("//", 1)[1],
            }
        )
        with DashboardServer(settings) as srv:
            srv.site = site
            yield srv


# Per module: Playwright's sync API keeps an event loop running in this thread while it is
# open, which would stop async tests collected after this tier in the same pytest session.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        raise RuntimeError("the e2e tier needs chromium: run `bash infra/install-system-deps.sh`")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: DashboardServer) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)  # generous for a loaded machine
    yield tab
    context.close()


def shoot(tab: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path

"""Login in the browser against a real `quarry dev` process with a dashboard password: its own
process, so its settings and runtime are its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect

from dashboard.passwords import hash_password
from tests.conftest import ROOT
from tests.e2e.conftest import shoot
from tests.e2e.htmlcheck import problems
from tests.e2e.server import free_port

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("locked")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")},
        "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/quarry.db",
        "QUARRY_SECRET_KEY": "e2e-login-secret-0123456789abcdef",
        "QUARRY_DASHBOARD_PASSWORD_HASH": hash_password(PASSWORD),
    }
    command = [sys.executable, "-m", "cli.main", "dev", "--no-demo", "--no-reload"]
    command += ["--port", str(port), "--table", str(ROOT / "serverless.yml")]
    log = (folder / "dev.out").open("w")
    proc = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # start-up: imports and migrations (readiness, not a timing check)
            if proc.poll() is not None:
                raise RuntimeError(f"quarry dev exited: {(folder / 'dev.out').read_text()}")
            try:
                if httpx.get(url + "/login").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_e2e_login_guards_pages_and_logout_ends_the_session(browser: Browser, locked: str) -> None:
    context = browser.new_context(base_url=locked)
    tab = context.new_page()
    tab.goto("/sources?cursor=")
    expect(tab).to_have_url(f"{locked}/login?next=%2Fsources%3Fcursor%3D")
    expect(tab.locator("h1")).to_have_text("Log in")
    expect(tab.locator(".banner")).to_have_count(0)
    tab.get_by_label("Password").fill("not the password")
    tab.get_by_role("button", name="Log in").click()
    expect(tab.locator(".errors")).to_have_text("That password is not right. Try again.")
    shoot(tab, "login-refused")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    expect(tab).to_have_url(f"{locked}/sources?cursor=")
    expect(tab.locator("h1")).to_have_text("Sources")
    cookie = next(c for c in context.cookies() if c["name"] == "quarry_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    tab.goto("/functions")
    expect(tab.locator("h1")).to_have_text("Functions")
    tab.get_by_role("button", name="Log out").click()
    expect(tab.locator(".notice")).to_have_text("You are logged out.")
    tab.goto("/")
    expect(tab).to_have_url(f"{locked}/login?next=%2F")
    context.close()


def test_e2e_login_page_is_valid_html_under_the_csp(locked: str) -> None:
    page = httpx.get(locked + "/login")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert problems(page.text) == []

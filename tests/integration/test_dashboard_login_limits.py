"""Guessing the dashboard password: attempts are counted atomically before the password is
checked (concurrent guesses cannot pass the lock-out together), per account and client
address, the address being the one a trusted proxy reports; and the password hash is checked
off the event loop, so a guess does not stall every other request of the instance."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from dashboard.passwords import hash_password
from emulator.gateway import Gateway
from emulator.platform import Embedded, embedded
from shared.config import Settings
from tests.conftest import ROOT

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"


@pytest.fixture
async def guarded(settings: Settings) -> AsyncIterator[Embedded]:
    cfg = settings.model_copy(
        update={
            "dashboard_password_hash": SecretStr(hash_password(PASSWORD)),
            "trusted_proxies": ("127.0.0.1/32", "172.16.0.0/12"),
        }
    )
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as platform:
        yield platform


def browser(app: object, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")


async def token_of(web: httpx.AsyncClient) -> str:
    found = CSRF.search((await web.get("/login")).text)
    assert found, "the login page has no CSRF field"
    return found[1]


async def test_dashboard_login_concurrent_guesses_are_all_counted(guarded: Embedded) -> None:
    async with browser(guarded.gateway) as web:
        token = await token_of(web)
        guesses = await asyncio.gather(
            *(
                web.post("/login", data={"password": f"guess {i}", "csrf_token": token})
                for i in range(24)
            )
        )
    codes = sorted(g.status_code for g in guesses)
    assert codes == [401] * 10 + [429] * 14, codes


async def test_dashboard_login_lockout_is_per_client_behind_a_trusted_proxy(
    guarded: Embedded,
) -> None:
    proxy = "172.18.0.5"  # nginx in compose: every browser reaches the dashboard through it
    async with browser(guarded.gateway, proxy) as web:
        token = await token_of(web)
        guesser = {"x-forwarded-for": "203.0.113.5"}
        for _ in range(10):
            wrong = await web.post(
                "/login", data={"password": "guess", "csrf_token": token}, headers=guesser
            )
            assert wrong.status_code == 401
        locked = await web.post(
            "/login", data={"password": PASSWORD, "csrf_token": token}, headers=guesser
        )
        assert locked.status_code == 429
        other = {"x-forwarded-for": "198.51.100.9, 203.0.113.77"}  # the proxy appended the last
        ok = await web.post(
            "/login", data={"password": PASSWORD, "csrf_token": token}, headers=other
        )
        assert ok.status_code == 303, ok.text
    async with browser(guarded.gateway, "198.51.100.20") as direct:  # not a trusted proxy
        token = await token_of(direct)
        spoofed = {"x-forwarded-for": "203.0.113.5"}  # ignored: the peer is the client
        ok = await direct.post(
            "/login", data={"password": PASSWORD, "csrf_token": token}, headers=spoofed
        )
        assert ok.status_code == 303, ok.text


async def test_dashboard_login_hash_is_checked_off_the_event_loop(settings: Settings) -> None:
    """One guess against a costly hash (scrypt N=2^17) while a ticker runs on the same loop
    as the dashboard (the direct ASGI path, as a stack instance serves it): the ticker's
    longest pause stays a small part of the guess's time instead of all of it."""
    slow = "scrypt$131072$8$1$" + hash_password(PASSWORD).split("$", 4)[4]
    cfg = settings.model_copy(update={"dashboard_password_hash": SecretStr(slow)})
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as platform:
        gateway = Gateway(platform.table, mode="asgi")
        try:
            async with browser(gateway) as web:
                token = await token_of(web)
                ticks: list[float] = []
                done = asyncio.Event()

                async def ticker() -> None:
                    while not done.is_set():
                        ticks.append(time.monotonic())
                        await asyncio.sleep(0.005)

                running = asyncio.create_task(ticker())
                await asyncio.sleep(0.05)
                began = time.monotonic()
                guess = await web.post("/login", data={"password": "nope", "csrf_token": token})
                ended = time.monotonic()
                done.set()
                await running
        finally:
            gateway.executor.shutdown()
    assert guess.status_code == 401
    during = [t for t in ticks if began <= t <= ended]
    gaps = [b - a for a, b in zip([began, *during], [*during, ended], strict=True)]
    assert max(gaps) < (ended - began) / 2, (max(gaps), ended - began)

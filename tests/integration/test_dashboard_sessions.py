"""Dashboard sessions that can end: server-side records, so logout, a password change and
an API key's revocation end them on every instance, and a cookie forged with the secret key
opens nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from dashboard.passwords import hash_password
from emulator.platform import Embedded, embedded
from shared.auth import keys
from shared.config import Settings
from tests.conftest import ROOT
from tests.integration.conftest import poll

BASE = "http://127.0.0.1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"


@pytest.fixture
async def guarded(settings: Settings) -> AsyncIterator[Embedded]:
    cfg = settings.model_copy(
        update={"dashboard_password_hash": SecretStr(hash_password(PASSWORD))}
    )
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as platform:
        yield platform


def browser(platform: Embedded) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=platform.gateway), base_url=BASE)


async def logged_in(web: httpx.AsyncClient, password: str = PASSWORD) -> str:
    """Log in; returns the session cookie's value."""
    found = CSRF.search((await web.get("/login")).text)
    assert found, "the login page has no CSRF field"
    ok = await web.post("/login", data={"password": password, "csrf_token": found[1]})
    assert ok.status_code == 303, ok.text
    assert (await web.get("/sources")).status_code == 200
    return str(web.cookies["quarry_session"])


async def opens(platform: Embedded, cookie: str) -> bool:
    """Whether another browser holding `cookie` sees a page rather than the login form."""
    async with browser(platform) as other:
        other.cookies.set("quarry_session", cookie)
        return (await other.get("/sources")).status_code == 200


async def test_dashboard_logout_ends_the_session_everywhere(guarded: Embedded) -> None:
    async with browser(guarded) as web:
        cookie = await logged_in(web)
        assert await opens(guarded, cookie)
        token = CSRF.search((await web.get("/sources")).text)
        assert token
        out = await web.post("/logout", data={"csrf_token": token[1]})
        assert out.status_code == 303
    assert not await opens(guarded, cookie), "the cookie still opened pages after logout"


async def test_dashboard_password_change_ends_sessions(guarded: Embedded) -> None:
    async with browser(guarded) as web:
        cookie = await logged_in(web)
    changed = SecretStr(hash_password("a new password entirely"))
    guarded.runtime.settings = guarded.settings.model_copy(
        update={"dashboard_password_hash": changed}
    )
    assert not await opens(guarded, cookie), "a session from the old password still opened"
    async with browser(guarded) as web:
        await logged_in(web, "a new password entirely")


async def test_dashboard_key_session_ends_when_the_key_is_revoked(guarded: Embedded) -> None:
    row, key = await keys.create(guarded.runtime.db, "operator", "write")
    async with browser(guarded) as web:
        cookie = await logged_in(web, key)
    assert key not in cookie
    assert await opens(guarded, cookie)
    await keys.revoke(guarded.runtime.db, row.id)

    async def refused() -> bool:
        return not await opens(guarded, cookie)

    await poll("the revoked key's session to be refused", refused, deadline_s=10)


async def test_dashboard_cookie_forged_with_the_secret_key_opens_nothing(
    guarded: Embedded,
) -> None:
    """The cookie format before server-side sessions: HMAC-signed `{u, e, n}` under a key
    derived from QUARRY_SECRET_KEY. Knowing the secret key must not be enough."""
    secret = guarded.settings.secret_key.get_secret_value().encode()
    key = hmac.new(secret, b"quarry-dashboard:session", hashlib.sha256).digest()
    payload = json.dumps({"u": "admin", "e": int(time.time()) + 3600, "n": "00"}).encode()
    tag = hmac.new(key, payload, hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    assert not await opens(guarded, f"{b64(payload)}.{b64(tag)}")

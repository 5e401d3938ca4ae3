"""The dashboard's Webhooks page (inbox, verdicts, re-delivery), its API-key login and the
banner saying whether the API asks for keys."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from dashboard.passwords import hash_password
from emulator.platform import Embedded, embedded
from shared.auth import keys
from shared.config import Settings
from shared.db.models import Run
from shared.webhooks.signature import sign_standard
from tests.conftest import ROOT
from tests.e2e.htmlcheck import problems

BASE = "http://127.0.0.1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET = "whsec_" + "ZGFzaGJvYXJkLXdlYmhvb2stc2VjcmV0LTAxMjM="


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture
async def web(platform: Embedded) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=platform.gateway)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


async def test_webhooks_dashboard_lists_deliveries_and_redelivers(
    platform: Embedded, web: httpx.AsyncClient
) -> None:
    source = (
        await web.post(
            "/api/v1/sources",
            json={"name": "cms", "kind": "urls", "urls": ["https://example.org/"]},
        )
    ).json()["id"]
    config = {"scheme": "standard", "secrets": [SECRET]}
    assert (await web.put(f"/api/v1/sources/{source}/webhook", json=config)).status_code == 200
    body = b'{"title": "<script>alert(1)</script>"}'
    stamp = int(time.time())
    signed = {
        "webhook-id": "msg_dash",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard(SECRET, "msg_dash", stamp, body),
    }
    accepted = await web.post(f"/api/v1/webhooks/{source}", content=body, headers=signed)
    assert accepted.status_code == 202
    forged = await web.post(f"/api/v1/webhooks/{source}", content=body, headers={})
    assert forged.status_code == 401
    page = await web.get("/webhooks")
    assert page.status_code == 200
    assert problems(page.text) == []
    assert "accepted" in page.text
    assert "rejected" in page.text
    assert page.text.count("Re-deliver</button>") == 1  # a rejected delivery cannot be
    entry = accepted.json()["delivery"]
    detail = await web.get(f"/webhooks/{entry}")
    assert problems(detail.text) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail.text
    assert "<script>alert" not in detail.text
    assert "webhook-signature" in detail.text
    again = await web.post(
        f"/webhooks/{entry}/redeliver", data={"csrf_token": csrf_of(detail.text)}
    )
    assert again.status_code == 303
    shown = await web.get(again.headers["location"])
    assert "redelivered" in shown.text
    async with platform.runtime.db.reader() as s:
        runs = await s.scalar(select(func.count()).where(Run.source_id == source))
    assert runs == 2
    forged = await web.post(f"/webhooks/{entry}/redeliver", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert (await web.get("/webhooks/nope")).status_code == 404


async def test_webhooks_dashboard_banner_says_when_the_api_is_open(
    web: httpx.AsyncClient,
) -> None:
    page = (await web.get("/")).text
    assert "API keys are off" in page


@pytest.fixture
async def guarded(
    settings: Settings, demo_site: str
) -> AsyncIterator[tuple[Embedded, httpx.AsyncClient]]:
    cfg = settings.model_copy(
        update={
            "dashboard_password_hash": SecretStr(hash_password("correct horse")),
            "api_auth": "on",
        }
    )
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as p:
        transport = httpx.ASGITransport(app=p.gateway)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            yield p, c


async def test_webhooks_dashboard_login_accepts_an_api_key_with_write_scope(
    guarded: tuple[Embedded, httpx.AsyncClient],
) -> None:
    platform, web = guarded
    _, reader = await keys.create(platform.runtime.db, "viewer", "read")
    _, writer = await keys.create(platform.runtime.db, "operator", "write")
    form = await web.get("/login")
    assert "API keys are off" not in form.text
    assert "API key" in form.text
    token = csrf_of(form.text)
    weak = await web.post("/login", data={"password": reader, "csrf_token": token})
    assert weak.status_code == 401
    assert "scope" in weak.text
    assert "quarry_session" not in web.cookies
    ok = await web.post(
        "/login", data={"password": writer, "next": "/webhooks", "csrf_token": token}
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/webhooks"
    assert (await web.get("/webhooks")).status_code == 200
    assert writer not in ok.headers.get("set-cookie", "")

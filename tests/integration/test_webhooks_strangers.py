"""What strangers can make the inbox do: keep nothing of a rejected delivery but its verdict,
headers, size and hash; re-deliver nothing that was not verified (API and dashboard); and
start nothing again by replaying a signed GitHub or generic body under a new delivery id."""

from __future__ import annotations

import hashlib
import re

import httpx
from sqlalchemy import func, select

from emulator.platform import Embedded
from shared.db.models import WebhookDelivery
from shared.webhooks.signature import sign_github
from tests.integration.test_webhooks import run_count, signed, source_with_webhook

SECRET = "generic-or-github-secret-0123456789"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_webhooks_rejected_deliveries_keep_no_body(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = await source_with_webhook(client)
    junk = [bytes([65 + i]) * (256 * 1024) for i in range(5)]  # 5 unsigned 256 KiB posts
    for body in junk:
        refused = await client.post(f"/api/v1/webhooks/{source}", content=body)
        assert refused.status_code == 401
    async with platform.runtime.db.reader() as s:
        kept = await s.scalar(
            select(func.coalesce(func.sum(func.length(WebhookDelivery.body)), 0)).where(
                WebhookDelivery.source_id == source
            )
        )
    assert kept == 0
    listed = (await client.get("/api/v1/webhook-deliveries", params={"source_id": source})).json()
    assert len(listed["items"]) == 5
    for entry in listed["items"]:
        assert entry["verdict"] == "rejected"
        assert entry["body"] is None
        assert entry["size"] == 256 * 1024
    hashes = {e["body_sha256"] for e in listed["items"]}
    assert hashes == {hashlib.sha256(b).hexdigest() for b in junk}
    accepted_body = b'{"event": "published"}'
    ok = await client.post(
        f"/api/v1/webhooks/{source}", content=accepted_body, headers=signed("m1", accepted_body)
    )
    entry = (await client.get(f"/api/v1/webhook-deliveries/{ok.json()['delivery']}")).json()
    assert (entry["body"], entry["size"]) == (accepted_body.decode(), len(accepted_body))


async def test_webhooks_only_verified_deliveries_can_be_redelivered(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = await source_with_webhook(client)
    body = b'{"event": "published"}'
    forged = await client.post(f"/api/v1/webhooks/{source}", content=body, headers={})
    assert forged.status_code == 401
    listed = (await client.get("/api/v1/webhook-deliveries", params={"source_id": source})).json()
    rejected = listed["items"][0]["id"]
    api = await client.post(f"/api/v1/webhook-deliveries/{rejected}/redeliver")
    assert api.status_code == 409, api.text
    assert "only verified deliveries" in api.json()["detail"]
    transport = httpx.ASGITransport(app=platform.gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as web:
        detail = await web.get(f"/webhooks/{rejected}")
        assert "Re-deliver</button>" not in detail.text
        assert "Not kept: the signature did not check out" in detail.text
        found = CSRF.search((await web.get("/sources/new")).text)  # any form of this browser
        assert found is not None
        page = await web.post(f"/webhooks/{rejected}/redeliver", data={"csrf_token": found[1]})
    assert page.status_code == 409
    assert "only verified deliveries" in page.text
    assert await run_count(platform, source) == 0


async def test_webhooks_github_and_generic_replays_under_new_ids_start_nothing(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    body = b'{"action": "published", "id": 7}'
    signature = sign_github(SECRET, body)
    for scheme, headers_of in (
        ("github", lambda i: {"x-hub-signature-256": signature, "x-github-delivery": f"gh-{i}"}),
        ("generic", lambda i: {"x-signature": signature, "x-delivery-id": f"d-{i}"}),
    ):
        source = await source_with_webhook(client, scheme=scheme, secrets=[SECRET])
        answers = [
            await client.post(f"/api/v1/webhooks/{source}", content=body, headers=headers_of(i))
            for i in range(3)
        ]
        assert [a.status_code for a in answers] == [202, 200, 200], scheme
        assert [a.json()["duplicate"] for a in answers] == [False, True, True], scheme
        assert await run_count(platform, source) == 1, scheme
        other = b'{"action": "published", "id": 8}'
        changed = {**headers_of(9), "x-hub-signature-256": sign_github(SECRET, other)}
        changed["x-signature"] = changed["x-hub-signature-256"]
        fresh = await client.post(f"/api/v1/webhooks/{source}", content=other, headers=changed)
        assert fresh.status_code == 202, (scheme, fresh.text)
        assert await run_count(platform, source) == 2, scheme

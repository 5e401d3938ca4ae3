"""Inbound webhooks through the gateway: verification, dedup, inbox, URL mapping."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from sqlalchemy import func, select

from emulator.platform import Embedded
from shared.db.models import Document, Outbox, Run, WebhookDelivery
from shared.webhooks.signature import sign_github, sign_standard
from tests.integration.conftest import poll

SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LTAxMjM0NTY3ODk="
GH_SECRET = "github-secret-0123456789"
URLS = {"name": "cms", "kind": "urls", "urls": ["https://example.org/a"]}


async def source_with_webhook(client: httpx.AsyncClient, **config: object) -> str:
    source = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    body = {"scheme": "standard", "secrets": [SECRET]} | config
    put = await client.put(f"/api/v1/sources/{source}/webhook", json=body)
    assert put.status_code == 200, put.text
    assert put.json()["secrets"] == len(body["secrets"])  # type: ignore[arg-type]
    assert SECRET not in put.text
    return source


def signed(msg_id: str, body: bytes, secret: str = SECRET, ts: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if ts is None else ts
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard(secret, msg_id, stamp, body),
        "content-type": "application/json",
    }


async def run_count(platform: Embedded, source_id: str) -> int:
    async with platform.runtime.db.reader() as s:
        return int(await s.scalar(select(func.count()).where(Run.source_id == source_id)) or 0)


async def test_webhooks_signed_delivery_starts_a_run_and_can_be_redelivered(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = await source_with_webhook(client)
    body = b'{"event": "published"}'
    response = await client.post(
        f"/api/v1/webhooks/{source}", content=body, headers=signed("msg_1", body)
    )
    assert response.status_code == 202, response.text
    receipt = response.json()
    assert receipt["duplicate"] is False
    assert receipt["urls"] is None
    run = (await client.get(f"/api/v1/runs/{receipt['run_id']}")).json()
    assert (run["source_id"], run["trigger"]) == (source, "webhook")
    entry = (await client.get(f"/api/v1/webhook-deliveries/{receipt['delivery']}")).json()
    assert (entry["verdict"], entry["delivery_id"], entry["run_id"]) == (
        "accepted",
        "msg_1",
        receipt["run_id"],
    )
    assert entry["body"] == body.decode()


async def test_webhooks_bad_signatures_and_skew_start_nothing(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = await source_with_webhook(client)
    body = b'{"event": "published"}'
    url = f"/api/v1/webhooks/{source}"
    missing = await client.post(url, content=body, headers={"authorization": "Bearer hunter2"})
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert "missing webhook-id" in missing.json()["detail"]
    wrong = await client.post(
        url,
        content=body,
        headers=signed("m", body, secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUE="),
    )
    assert wrong.status_code == 401
    tampered = await client.post(url, content=body + b" ", headers=signed("m", body))
    assert tampered.status_code == 401
    stale = await client.post(
        url, content=body, headers=signed("m", body, ts=int(time.time()) - 600)
    )
    assert stale.status_code == 400
    assert "more than 5 minutes" in stale.json()["detail"]
    future = await client.post(
        url, content=body, headers=signed("m", body, ts=int(time.time()) + 600)
    )
    assert future.status_code == 400
    assert await run_count(platform, source) == 0
    inbox = (await client.get("/api/v1/webhook-deliveries", params={"source_id": source})).json()
    assert [e["verdict"] for e in inbox["items"]] == ["rejected"] * 5
    assert all(e["run_id"] is None and e["delivery_id"] is None for e in inbox["items"])
    assert "authorization" not in inbox["items"][-1]["headers"]  # secrets never stored
    assert "hunter2" not in json.dumps(inbox)


async def test_webhooks_same_delivery_ten_times_in_a_row_or_at_once_is_one_run(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = await source_with_webhook(client)
    body = b'{"event": "again"}'
    headers = signed("msg_repeat", body)
    answers = [
        await client.post(f"/api/v1/webhooks/{source}", content=body, headers=headers)
        for _ in range(10)
    ]
    assert [a.status_code for a in answers] == [202] + [200] * 9
    assert {a.json()["run_id"] for a in answers} == {answers[0].json()["run_id"]}
    assert [a.json()["duplicate"] for a in answers[1:]] == [True] * 9
    assert await run_count(platform, source) == 1
    # the same, ten copies at once
    source = await source_with_webhook(client)
    body = b'{"event": "burst"}'
    headers = signed("msg_burst", body)
    answers = await asyncio.gather(
        *(
            client.post(f"/api/v1/webhooks/{source}", content=body, headers=headers)
            for _ in range(10)
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(202) == 1, codes
    assert set(codes) <= {200, 202, 409}
    runs = {a.json()["run_id"] for a in answers if a.status_code in (200, 202)}
    assert len(runs) == 1
    assert await run_count(platform, source) == 1
    async with platform.runtime.db.reader() as s:
        accepted = await s.scalar(
            select(func.count()).where(
                WebhookDelivery.source_id == source, WebhookDelivery.delivery_id == "msg_burst"
            )
        )
    assert accepted == 1


async def test_webhooks_github_payload_names_the_urls_to_process(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    source = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    config = {"scheme": "github", "secrets": [GH_SECRET], "urls_path": "entry.urls"}
    assert (await client.put(f"/api/v1/sources/{source}/webhook", json=config)).status_code == 200
    pages = [f"{demo_site}/missing-1.html", f"{demo_site}/missing-2.html"]
    body = json.dumps({"event": "published", "entry": {"urls": pages}}).encode()
    headers = {"x-hub-signature-256": sign_github(GH_SECRET, body), "x-github-delivery": "gh-1"}
    response = await client.post(f"/api/v1/webhooks/{source}", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["urls"] == pages
    run_id = response.json()["run_id"]

    async def discovered() -> Run | None:  # discovery seeds the pages the message carries
        async with platform.runtime.db.reader() as s:
            run = await s.get(Run, run_id, populate_existing=True)
        return run if run is not None and run.discovered is not None else None

    run = await poll("discovery to seed the webhook's pages", discovered)
    async with platform.runtime.db.reader() as s:
        docs = (await s.scalars(select(Document.url).where(Document.source_id == source))).all()
        first = (
            await s.scalars(select(Outbox).where(Outbox.run_id == run_id).order_by(Outbox.id))
        ).first()
    assert run.discovered == 2  # exactly the named pages, not the source's own list
    assert sorted(docs) == sorted(pages)
    assert first is not None  # the run entered through discovery, its message naming them
    assert (first.stage, first.body["urls"]) == ("discovery", pages)
    unmapped = json.dumps({"event": "published", "entry": {}}).encode()
    headers = {"x-hub-signature-256": sign_github(GH_SECRET, unmapped), "x-github-delivery": "gh-2"}
    refused = await client.post(f"/api/v1/webhooks/{source}", content=unmapped, headers=headers)
    assert refused.status_code == 422
    assert "nothing at entry.urls" in refused.json()["detail"]
    # re-delivery from the inbox: a new entry and a run of its own
    source = await source_with_webhook(client)
    body = b'{"event": "published"}'
    first = (
        await client.post(f"/api/v1/webhooks/{source}", content=body, headers=signed("m1", body))
    ).json()
    again = await client.post(f"/api/v1/webhook-deliveries/{first['delivery']}/redeliver")
    assert again.status_code == 202
    assert again.json()["run_id"] != first["run_id"]
    entry = (await client.get(f"/api/v1/webhook-deliveries/{again.json()['delivery']}")).json()
    assert (entry["verdict"], entry["redelivery_of"]) == ("redelivered", first["delivery"])
    assert await run_count(platform, source) == 2
    missing = await client.post("/api/v1/webhook-deliveries/nope/redeliver")
    assert missing.status_code == 404


async def test_webhooks_unknown_or_unconfigured_source_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/webhooks/nope", content=b"{}")).status_code == 404
    source = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    plain = await client.post(f"/api/v1/webhooks/{source}", content=b"{}")
    assert plain.status_code == 404
    assert "no webhook configured" in plain.json()["detail"]
    bad = await client.put(
        f"/api/v1/sources/{source}/webhook", json={"scheme": "standard", "secrets": ["nope"]}
    )
    assert bad.status_code == 422

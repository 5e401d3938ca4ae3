"""Idempotency-Key on POST /api/v1/runs: replays, conflicts and mismatched bodies."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from emulator.platform import Embedded
from shared.db.models import IdempotencyKey, Run, WebhookDelivery, utcnow
from shared.idempotency import fingerprint
from shared.webhooks import retention

URLS = {"name": "list", "kind": "urls", "urls": ["https://example.org/a"]}


async def runs_of(platform: Embedded, source_id: str) -> int:
    async with platform.runtime.db.reader() as s:
        return int(await s.scalar(select(func.count()).where(Run.source_id == source_id)) or 0)


async def test_idempotency_replay_returns_the_first_response_and_another_body_is_422(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    headers = {"idempotency-key": "order-42"}
    first = await client.post("/api/v1/runs", json={"source_id": source}, headers=headers)
    again = await client.post("/api/v1/runs", json={"source_id": source}, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await runs_of(platform, source) == 1
    fresh = await client.post("/api/v1/runs", json={"source_id": source})
    assert fresh.json()["id"] != first.json()["id"]  # no key: a new run each time
    # the same key with another body
    one = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    two = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    headers = {"idempotency-key": "k-1"}
    assert (
        await client.post("/api/v1/runs", json={"source_id": one}, headers=headers)
    ).status_code == 202
    other = await client.post("/api/v1/runs", json={"source_id": two}, headers=headers)
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]


async def test_idempotency_in_flight_duplicate_is_409_and_a_failure_frees_the_key(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    body = {"source_id": source}
    async with platform.runtime.db.writer() as s:  # a first request still being processed
        now = utcnow()
        s.add(
            IdempotencyKey(
                key="busy",
                route="POST /api/v1/runs",
                request_hash=fingerprint(body),
                state="processing",
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    busy = await client.post("/api/v1/runs", json=body, headers={"idempotency-key": "busy"})
    assert busy.status_code == 409
    assert "still in progress" in busy.json()["detail"]
    missing = await client.post(
        "/api/v1/runs", json={"source_id": "nope"}, headers={"idempotency-key": "retry-me"}
    )
    assert missing.status_code == 404
    retried = await client.post("/api/v1/runs", json=body, headers={"idempotency-key": "retry-me"})
    assert retried.status_code == 202  # the failed request gave its key up


async def test_idempotency_concurrent_copies_start_one_run(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    headers = {"idempotency-key": "burst"}
    answers = await asyncio.gather(
        *(
            client.post("/api/v1/runs", json={"source_id": source}, headers=headers)
            for _ in range(10)
        )
    )
    codes = [a.status_code for a in answers]
    assert set(codes) <= {202, 409}, codes
    assert {a.json()["id"] for a in answers if a.status_code == 202} != set()
    assert len({a.json()["id"] for a in answers if a.status_code == 202}) == 1
    assert await runs_of(platform, source) == 1


async def test_idempotency_retention_prunes_only_what_expired(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    assert (
        await client.post(
            "/api/v1/runs", json={"source_id": source}, headers={"idempotency-key": "live"}
        )
    ).status_code == 202
    now = utcnow()
    async with platform.runtime.db.writer() as s:
        s.add(
            IdempotencyKey(
                key="old",
                route="POST /api/v1/runs",
                request_hash="0" * 64,
                state="done",
                created_at=now - timedelta(days=2),
                expires_at=now - timedelta(days=1),
            )
        )
        for age in (timedelta(hours=71), timedelta(days=31)):
            s.add(
                WebhookDelivery(
                    source_id=source,
                    headers={},
                    body=b"{}",
                    verdict="rejected",
                    created_at=now - age,
                )
            )
    # a retention shorter than the 72 h dedup guarantee is raised to it
    assert await retention.prune(platform.runtime, now, keep=timedelta(hours=1)) == 2
    async with platform.runtime.db.reader() as s:
        keys = (await s.scalars(select(IdempotencyKey.key))).all()
        ages = (await s.scalars(select(WebhookDelivery.created_at))).all()
    assert keys == ["live"]
    assert [now - a < timedelta(hours=72) for a in ages] == [True]

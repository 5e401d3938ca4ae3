"""Concurrent runs of one source are capped (QUARRY_MAX_ACTIVE_RUNS_PER_SOURCE): a run past
the cap is a clear 409, through the API and a signed webhook alike, and starts nothing."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import func, select

from emulator.invoke import HeldDispatcher
from emulator.platform import Embedded
from shared.db.models import Run
from shared.webhooks.signature import sign_standard

SECRET = "whsec_" + "cnVuLWNhcC13ZWJob29rLXNlY3JldC0wMTIz"


async def runs_of(platform: Embedded, source: str) -> int:
    async with platform.runtime.db.reader() as session:
        count = await session.scalar(select(func.count()).where(Run.source_id == source))
    return int(count or 0)


async def test_run_cap_refuses_a_third_active_run_of_a_source(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    platform.runtime.dispatcher = HeldDispatcher()  # nothing runs: started runs stay queued
    platform.runtime.settings = platform.settings.model_copy(
        update={"max_active_runs_per_source": 2}
    )
    body = {"name": "capped", "kind": "urls", "urls": ["https://example.org/"]}
    source = (await client.post("/api/v1/sources", json=body)).json()["id"]
    other = (await client.post("/api/v1/sources", json={**body, "name": "other"})).json()["id"]
    first = await client.post("/api/v1/runs", json={"source_id": source})
    second = await client.post("/api/v1/runs", json={"source_id": source})
    assert (first.status_code, second.status_code) == (202, 202)
    third = await client.post("/api/v1/runs", json={"source_id": source})
    assert third.status_code == 409, third.text
    assert third.headers["content-type"] == "application/problem+json"
    detail = third.json()["detail"]
    assert f"source {source} already has 2 runs in progress" in detail
    assert "QUARRY_MAX_ACTIVE_RUNS_PER_SOURCE" in detail
    assert (await client.post("/api/v1/runs", json={"source_id": other})).status_code == 202
    config = {"scheme": "standard", "secrets": [SECRET]}
    assert (await client.put(f"/api/v1/sources/{source}/webhook", json=config)).status_code == 200
    payload, stamp = b'{"event": "published"}', int(time.time())
    signed = {
        "webhook-id": "msg_capped",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard(SECRET, "msg_capped", stamp, payload),
    }
    hooked = await client.post(f"/api/v1/webhooks/{source}", content=payload, headers=signed)
    assert hooked.status_code == 409, hooked.text
    assert await runs_of(platform, source) == 2
    cancelled = await client.post(f"/api/v1/runs/{first.json()['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    again = await client.post(f"/api/v1/webhooks/{source}", content=payload, headers=signed)
    assert again.status_code == 202, again.text  # a slot is free: the sender's retry starts it
    assert await runs_of(platform, source) == 3

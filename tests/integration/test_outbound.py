"""Outbound run events: queued by the run-state hook, signed, retried with backoff, logged,
and sent only to addresses the fetcher's guard admits, without following redirects."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from emulator.platform import Embedded
from shared.db.models import Run, utcnow
from shared.repo import settlement
from shared.webhooks import outbound
from shared.webhooks.sender import Sender
from shared.webhooks.signature import verify_standard

URLS = {"name": "list", "kind": "urls", "urls": ["https://example.org/a"]}


class Receiver:
    """A subscriber on loopback answering with the statuses it is given, in order."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                if status == 302:
                    self.send_header("location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def sender_for(platform: Embedded, receiver: Receiver) -> Sender:
    allowed = platform.settings.model_copy(update={"fetch_allow_hosts": (receiver.host,)})
    return Sender(allowed)


async def subscribed(client: httpx.AsyncClient, url: str) -> tuple[str, dict[str, Any]]:
    source = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    sub = await client.post("/api/v1/webhook-subscriptions", json={"source_id": source, "url": url})
    assert sub.status_code == 201, sub.text
    assert sub.json()["secret"].startswith("whsec_")
    listed = (await client.get("/api/v1/webhook-subscriptions")).json()["items"]
    assert {s["secret"] for s in listed} == {None}  # shown once, at creation
    return source, sub.json()


async def finished_run(platform: Embedded, source: str, fail: bool) -> str:
    async with platform.runtime.db.writer() as s:
        run = Run(source_id=source, state="running", trigger="api", discovered=0)
        s.add(run)
    flow = platform.runtime.flow
    async with platform.runtime.db.writer() as s:
        if fail:
            ended = await settlement.finish(
                s, flow, run.id, "failed", error="source unreadable", rollup=False
            )
        else:
            ended = await settlement.finish(s, flow, run.id, "succeeded")
    assert ended is not None  # the run became final in this transaction
    return run.id


async def log_of(client: httpx.AsyncClient, sub_id: str) -> list[dict[str, Any]]:
    page = await client.get(f"/api/v1/webhook-subscriptions/{sub_id}/deliveries")
    return list(page.json()["items"])


async def test_outbound_run_events_are_signed_and_logged(
    platform: Embedded, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    source, sub = await subscribed(client, f"http://{receiver.host}/hook")
    completed = await finished_run(platform, source, fail=False)
    failed = await finished_run(platform, source, fail=True)
    assert receiver.received == []  # nothing is sent inside the run's transaction
    sender = sender_for(platform, receiver)
    assert await outbound.relay(platform.runtime, sender=sender) == 2
    events = {}
    for headers, body in receiver.received:
        verified = verify_standard(headers, body, [sub["secret"]], now=utcnow().timestamp())
        assert headers["content-type"] == "application/json"
        events[verified.delivery_id] = httpx.Response(200, content=body).json()
    assert {e["type"] for e in events.values()} == {"run.completed", "run.failed"}
    by_type = {e["type"]: e["data"] for e in events.values()}
    assert by_type["run.completed"]["run_id"] == completed
    assert (by_type["run.failed"]["run_id"], by_type["run.failed"]["error"]) == (
        failed,
        "source unreadable",
    )
    log = await log_of(client, sub["id"])
    assert {(d["state"], d["attempts"], d["last_status"]) for d in log} == {("delivered", 1, 204)}
    assert await outbound.relay(platform.runtime, sender=sender) == 0  # each sent once


async def test_outbound_failures_retry_with_exponential_backoff(
    platform: Embedded, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    source, sub = await subscribed(client, f"http://{receiver.host}/hook")
    await finished_run(platform, source, fail=True)
    sender = sender_for(platform, receiver)
    receiver.statuses = [500, 503]
    start = utcnow()
    assert await outbound.relay(platform.runtime, sender=sender, now=start) == 0
    [entry] = await log_of(client, sub["id"])
    assert (entry["state"], entry["attempts"], entry["last_status"]) == ("pending", 1, 500)
    assert (
        await outbound.relay(platform.runtime, sender=sender, now=start + timedelta(seconds=9)) == 0
    )
    assert len(receiver.received) == 1  # not due yet: the first wait is 10 s
    second = start + timedelta(seconds=11)
    assert await outbound.relay(platform.runtime, sender=sender, now=second) == 0
    [entry] = await log_of(client, sub["id"])
    assert (entry["attempts"], entry["last_status"]) == (2, 503)
    waited = httpx.Response(200, json=entry).json()["next_attempt_at"]
    assert waited.startswith((second + timedelta(seconds=20)).isoformat()[:19])  # doubled
    assert (
        await outbound.relay(platform.runtime, sender=sender, now=second + timedelta(seconds=21))
        == 1
    )
    [entry] = await log_of(client, sub["id"])
    assert (entry["state"], entry["attempts"], entry["last_status"]) == ("delivered", 3, 204)
    first, _, third = (h["webhook-id"] for h, _ in receiver.received)
    assert first == third  # the same message id on every attempt


async def test_outbound_refuses_private_addresses_redirects_and_other_schemes(
    platform: Embedded, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    source, sub = await subscribed(client, "http://10.1.2.3/hook")
    await finished_run(platform, source, fail=True)
    sender = sender_for(platform, receiver)
    assert await outbound.relay(platform.runtime, sender=sender) == 0
    [entry] = await log_of(client, sub["id"])
    assert entry["last_status"] is None
    assert "non-public address" in entry["last_error"]
    source2, sub2 = await subscribed(client, f"http://{receiver.host}/moved")
    receiver.statuses = [302]
    await finished_run(platform, source2, fail=True)
    assert await outbound.relay(platform.runtime, sender=sender) == 0
    [entry] = await log_of(client, sub2["id"])
    assert (entry["state"], entry["last_status"]) == ("pending", 302)
    assert len(receiver.received) == 1  # the redirect to the metadata address was not followed
    # subscription URLs are checked when they are given
    source = (await client.post("/api/v1/sources", json=URLS)).json()["id"]
    bad = await client.post(
        "/api/v1/webhook-subscriptions", json={"source_id": source, "url": "file:///etc/passwd"}
    )
    assert bad.status_code == 422
    unknown = await client.post(
        "/api/v1/webhook-subscriptions", json={"source_id": "nope", "url": "https://a.example/"}
    )
    assert unknown.status_code == 404

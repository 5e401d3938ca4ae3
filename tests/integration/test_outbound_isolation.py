"""Outbound posts are bounded and isolated: one POST has an overall deadline (a subscriber
dripping its answer a byte at a time cannot hold it), and a slow subscriber delays only
itself: other subscribers are served, and new relays start, while it is still answering."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from emulator.platform import Embedded
from shared.db.models import OutboundDelivery
from shared.webhooks import outbound
from shared.webhooks.sender import Sender
from tests.integration.conftest import poll
from tests.integration.test_outbound import Receiver, finished_run, subscribed


class Dripping:
    """A subscriber that answers 200 one header line at a time, every `every_s`, until
    released (or `lines` lines were sent): httpx's read timeout restarts on every line."""

    def __init__(self, every_s: float = 0.2, lines: int = 300) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.finished = threading.Event()
        dripping = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                dripping.started.set()
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for i in range(lines):
                    if dripping.release.is_set():
                        break
                    self.wfile.write(f"x-drip-{i}: y\r\n".encode())
                    self.wfile.flush()
                    time.sleep(every_s)
                self.wfile.write(b"content-length: 0\r\nconnection: close\r\n\r\n")
                self.wfile.flush()
                dripping.finished.set()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def dripping() -> Iterator[Dripping]:
    d = Dripping()
    yield d
    d.close()


@pytest.fixture
def fast() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


async def test_outbound_post_has_an_overall_deadline(
    platform: Embedded, dripping: Dripping
) -> None:
    settings = platform.settings.model_copy(
        update={"fetch_allow_hosts": (dripping.host,), "fetch_timeout_s": 1.0}
    )
    sender = Sender(settings)
    async with sender.client() as client:
        attempt = await sender.post(client, f"http://{dripping.host}/hook", SECRET, "m", b"{}")
    assert dripping.started.is_set()
    assert not dripping.finished.is_set(), "the subscriber finished its answer first"
    assert attempt.ok is False
    assert attempt.status is None
    assert attempt.error == "no complete answer within 1 s (QUARRY_FETCH_TIMEOUT_S)"


SECRET = "whsec_" + "b3V0Ym91bmQtZGVhZGxpbmUtc2VjcmV0LTAxMjM="


async def state_of(platform: Embedded, sub_id: str) -> list[str]:
    async with platform.runtime.db.reader() as s:
        rows = await s.scalars(
            select(OutboundDelivery.state).where(OutboundDelivery.subscription_id == sub_id)
        )
        return sorted(rows.all())


async def test_outbound_slow_subscriber_delays_only_itself(
    platform: Embedded, client: httpx.AsyncClient, dripping: Dripping, fast: Receiver
) -> None:
    platform.runtime.settings = platform.settings.model_copy(
        update={"fetch_allow_hosts": (dripping.host, fast.host), "fetch_timeout_s": 60.0}
    )
    slow_source, slow_sub = await subscribed(client, f"http://{dripping.host}/hook")
    fast_source, fast_sub = await subscribed(client, f"http://{fast.host}/hook")
    await finished_run(platform, slow_source, fail=False)
    await finished_run(platform, fast_source, fail=False)
    outbound.kick(platform.runtime)
    await poll(
        "the fast subscriber's first event delivered", lambda: _delivered(platform, fast_sub, 1)
    )
    assert dripping.started.is_set()
    assert not dripping.finished.is_set()
    await finished_run(platform, fast_source, fail=True)  # a new event, while the slow one drips
    outbound.kick(platform.runtime)
    await poll(
        "the second event delivered by a new relay", lambda: _delivered(platform, fast_sub, 2)
    )
    assert not dripping.finished.is_set(), "the slow subscriber had finished: nothing was shown"
    assert len(fast.received) == 2
    dripping.release.set()
    await poll(
        "the slow subscriber's event delivered once released",
        lambda: _delivered(platform, slow_sub, 1),
    )


async def _delivered(platform: Embedded, sub: dict[str, Any], count: int) -> bool:
    return await state_of(platform, sub["id"]) == ["delivered"] * count

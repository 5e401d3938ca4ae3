"""Per-host politeness across processes: two worker processes share one slot per host in the
queue Redis, so the site never sees two requests at once, and sees the delay between them."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest

from emulator.stack.services.ports import free_port
from emulator.stack.services.redis import RedisServer
from tests.conftest import ROOT
from tests.stack.test_services import running, scratch

pytestmark = pytest.mark.stack

DELAY_S = 0.1
PAGES = 5
# One extraction worker, reduced to its fetch: the HttpFetcher the stack Runtime builds, polite
# through the queue Redis, fetching PAGES pages of one host at once.
WORKER = """
import asyncio, sys
from shared.config import Settings
from shared.fetch import HttpFetcher
from shared.fetch.polite import RedisPoliteness
from redis.asyncio import Redis

async def main(redis_url: str, host: str, name: str, delay: str, pages: str) -> None:
    settings = Settings(fetch_allow_hosts=(host,), fetch_listed_host_delay_s=float(delay))
    polite = RedisPoliteness(redis_url)
    fetcher = HttpFetcher(settings, politeness=polite)
    start = Redis.from_url(redis_url)  # both workers begin together, whatever their start-up
    await start.incr("test:ready")
    while int(await start.get("test:ready") or 0) < 2:
        await asyncio.sleep(0.01)
    await start.aclose()
    urls = [f"http://{host}/{name}/{i}" for i in range(int(pages))]
    pages = await asyncio.gather(*(fetcher.get(url) for url in urls))
    assert [p.status for p in pages] == [200] * len(urls)
    await fetcher.aclose()
    await polite.close()

asyncio.run(main(*sys.argv[1:]))
"""


class Recorder(ThreadingHTTPServer):
    """A site that takes 50 ms per page and records each request's start and end."""

    def __init__(self) -> None:
        self.log: list[tuple[str, float, float]] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                start = time.monotonic()
                time.sleep(0.05)
                body = b"<html><body>page</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with recorder.lock:
                    recorder.log.append((self.path, start, time.monotonic()))

            def log_message(self, format: str, *args: Any) -> None:
                return

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def site() -> Iterator[Recorder]:
    server = Recorder()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


async def worker(redis_url: str, host: str, name: str) -> tuple[int, bytes]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WORKER,
        redis_url,
        host,
        name,
        str(DELAY_S),
        str(PAGES),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out


async def test_politeness_two_worker_processes_never_overlap_on_one_host(site: Recorder) -> None:
    host = f"127.0.0.1:{site.server_address[1]}"
    with scratch() as base:
        queue = RedisServer(base / "queue", free_port(), "queue")
        queue.prepare()
        async with running(queue, base / "queue.log"):
            done = await asyncio.gather(*(worker(queue.url, host, n) for n in ("a", "b")))
    for code, out in done:
        assert code == 0, out.decode(errors="replace")
    ordered = sorted(site.log, key=lambda r: r[1])
    assert sorted(path for path, _, _ in ordered) == sorted(
        f"/{n}/{i}" for n in ("a", "b") for i in range(PAGES)
    )
    gaps = [b[1] - a[2] for a, b in pairwise(ordered)]
    assert min(gaps) >= DELAY_S - 0.005, f"overlapping or too close: {gaps}"
    # Both processes pass a Redis barrier before their first fetch, so they contend for the
    # host's slot; the order they win it in is not fair (waiters poll), so it is not asserted.

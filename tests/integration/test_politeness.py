"""Per-host politeness and robots.txt in the fetch path, against local servers that record
when each request started and ended."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest

from emulator.stack.services.ports import free_port
from shared.cache import MemoryCache, RedisCache
from shared.config import Settings
from shared.fetch import HttpFetcher, RobotsDisallowedError
from shared.fetch.polite import MemoryPoliteness, RedisPoliteness
from shared.pipeline.robots import MAX_BYTES
from shared.ports import Page

SLACK_S = 0.005  # clocks read in two threads: allow a few milliseconds


@dataclass
class Site:
    """A local site: its robots.txt answer, and every request as (path, start, end)."""

    robots: tuple[int, str] = (404, "")
    serve_s: float = 0.05
    log: list[tuple[str, float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    host: str = ""
    # A rendezvous that this site's first page request waits at for the other sites' first
    # requests: it is met only if they were being served at the same time.
    meet: threading.Barrier | None = None
    met: bool | None = None

    def paths(self) -> list[str]:
        return [path for path, _, _ in sorted(self.log, key=lambda r: r[1])]

    def gaps(self) -> list[float]:
        """Time from the end of each request to the start of the next."""
        ordered = sorted(self.log, key=lambda r: r[1])
        return [b[1] - a[2] for a, b in pairwise(ordered)]


def handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            start = time.monotonic()
            retry_after = ""
            if self.path == "/robots.txt":
                status, text = site.robots
                body, ctype = text.encode(), "text/plain"
            elif self.path == "/busy":
                status, body, ctype, retry_after = 429, b"slow down", "text/plain", "1"
            else:
                if site.meet is not None and site.met is None:
                    try:
                        site.meet.wait()
                        site.met = True
                    except threading.BrokenBarrierError:
                        site.met = False
                time.sleep(site.serve_s)
                status, ctype = 200, "text/html"
                body = f"<html><body>{self.path}</body></html>".encode()
            # Logged before the answer leaves, so a client that has its answer sees the entry.
            with site.lock:
                site.log.append((self.path, start, time.monotonic()))
            self._send(status, body, ctype, retry_after)

        def _send(self, status: int, body: bytes, ctype: str, retry_after: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(site: Site) -> Site:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(site))
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        site.host = f"127.0.0.1:{server.server_address[1]}"
        return site

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


OPEN: list[HttpFetcher] = []


@pytest.fixture(autouse=True)
async def close_fetchers() -> AsyncIterator[None]:
    yield
    while OPEN:
        await OPEN.pop().aclose()


def polite_fetcher(
    *sites: Site, delay: float, robots: bool = True, timeout_s: float = 3.0
) -> HttpFetcher:
    settings = Settings(
        fetch_allow_hosts=tuple(s.host for s in sites),
        fetch_listed_host_delay_s=delay,
        fetch_timeout_s=timeout_s,
    )
    cache = MemoryCache() if robots else None
    OPEN.append(HttpFetcher(settings, politeness=MemoryPoliteness(), cache=cache))
    return OPEN[-1]


async def fetch_all(fetcher: HttpFetcher, urls: list[str]) -> list[Page]:
    return await asyncio.gather(*(fetcher.get(url) for url in urls))


async def test_politeness_serialises_one_host_and_spaces_its_requests(serve: Any) -> None:
    site = serve(Site())
    fetcher = polite_fetcher(site, delay=0.1, robots=False)
    pages = await fetch_all(fetcher, [f"http://{site.host}/page/{i}" for i in range(6)])
    assert [p.status for p in pages] == [200] * 6
    assert sorted(site.paths()) == [f"/page/{i}" for i in range(6)]
    gaps = site.gaps()
    assert len(gaps) == 5
    assert min(gaps) >= 0.1 - SLACK_S, f"requests closer than the delay: {gaps}"


async def test_politeness_lets_two_hosts_proceed_in_parallel(serve: Any) -> None:
    # Each host's first request waits (up to 20 s, for a loaded machine) for the other's: the
    # rendezvous is met only when the two hosts are served at the same time, however slow
    # the machine; a fetcher that serialised across hosts would break it.
    meet = threading.Barrier(2, timeout=20)
    one, two = serve(Site(serve_s=0.2, meet=meet)), serve(Site(serve_s=0.2, meet=meet))
    fetcher = polite_fetcher(one, two, delay=0.05, robots=False, timeout_s=60)
    urls = [f"http://{s.host}/page/{i}" for i in range(2) for s in (one, two)]
    pages = await fetch_all(fetcher, urls)
    assert [p.status for p in pages] == [200] * 4
    assert (one.met, two.met) == (True, True), "the two hosts' first requests never overlapped"
    assert min(one.gaps() + two.gaps()) >= 0.05 - SLACK_S  # each host still spaced


async def test_politeness_holds_across_the_gateway_threads(serve: Any) -> None:
    site = serve(Site(serve_s=0.02))
    fetcher = polite_fetcher(site, delay=0.05, robots=False)

    def worker(n: int) -> None:
        urls = [f"http://{site.host}/t{n}/{i}" for i in range(3)]

        async def run() -> None:
            await fetch_all(fetcher, urls)
            await fetcher.aclose()

        asyncio.run(run())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(site.log) == 6
    assert min(site.gaps()) >= 0.05 - SLACK_S


async def test_politeness_falls_back_to_the_process_while_redis_is_down(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    site = serve(Site(serve_s=0.05))
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    polite = RedisPoliteness(down)
    settings = Settings(fetch_allow_hosts=(site.host,), fetch_listed_host_delay_s=0.1)
    OPEN.append(HttpFetcher(settings, politeness=polite, cache=RedisCache(down)))
    with caplog.at_level(logging.WARNING, logger="quarry.fetch"):
        pages = await fetch_all(OPEN[-1], [f"http://{site.host}/page/{i}" for i in range(2)])
    await polite.close()
    assert [(p.status, p.text) for p in pages] == [
        (200, f"<html><body>/page/{i}</body></html>") for i in range(2)
    ]
    assert sorted(p for p in site.paths() if p != "/robots.txt") == ["/page/0", "/page/1"]
    assert min(site.gaps()) >= 0.1 - SLACK_S, f"requests overlapped or crowded: {site.gaps()}"
    warnings = [r for r in caplog.records if r.name == "quarry.fetch"]
    assert [(r.levelname, r.getMessage().split(":", 1)[0]) for r in warnings] == [
        ("WARNING", "politeness falls back to this process while Redis is unreachable")
    ]


async def test_robots_disallowed_path_is_never_requested(serve: Any) -> None:
    site = serve(Site(robots=(200, "User-agent: *\nDisallow: /private\n")))
    fetcher = polite_fetcher(site, delay=0.0)
    with pytest.raises(RobotsDisallowedError) as info:
        await fetcher.get(f"http://{site.host}/private/report")
    assert info.value.outcome == "robots_disallowed"
    assert "robots.txt disallows this path for QuarryBot" in info.value.detail
    pages = await fetch_all(fetcher, [f"http://{site.host}/page/{i}" for i in range(3)])
    assert [p.status for p in pages] == [200] * 3
    # robots.txt fetched once for all four URLs, and /private never reached the server
    assert site.paths()[0] == "/robots.txt"
    assert sorted(site.paths()) == ["/page/0", "/page/1", "/page/2", "/robots.txt"]


async def test_robots_missing_allows_everything(serve: Any) -> None:
    site = serve(Site(robots=(404, "not found")))
    page = await polite_fetcher(site, delay=0.0).get(f"http://{site.host}/private")
    assert page.status == 200
    assert site.paths() == ["/robots.txt", "/private"]


@pytest.mark.parametrize("status", [503, 429])
async def test_robots_server_error_fetches_nothing(serve: Any, status: int) -> None:
    site = serve(Site(robots=(status, "down")))
    fetcher = polite_fetcher(site, delay=0.0)
    for path in ("/", "/page/1"):
        with pytest.raises(RobotsDisallowedError) as info:
            await fetcher.get(f"http://{site.host}{path}")
        assert info.value.outcome == "robots_disallowed"
        assert info.value.detail == (
            f"http://{site.host}{path}: http://{site.host}/robots.txt answered {status}, so "
            f"nothing on http://{site.host} is fetched until it answers (RFC 9309)"
        )
    assert site.paths() == ["/robots.txt"]


async def test_robots_unreachable_fetches_nothing(serve: Any) -> None:
    site = serve(Site())
    fetcher = polite_fetcher(site, delay=0.0)
    url = "http://127.0.0.1:9/page"  # the discard port: nothing listens
    fetcher.guard.names.add("127.0.0.1:9")
    with pytest.raises(RobotsDisallowedError) as info:
        await fetcher.get(url)
    assert "robots.txt could not be fetched (unreachable)" in info.value.detail


async def test_robots_over_500_kib_is_cut_and_parsed(serve: Any) -> None:
    rules = "User-agent: *\nDisallow: /private\n"
    site = serve(Site(robots=(200, rules + "# padding\n" * (MAX_BYTES // 8))))
    fetcher = polite_fetcher(site, delay=0.0)
    with pytest.raises(RobotsDisallowedError):
        await fetcher.get(f"http://{site.host}/private")
    assert (await fetcher.get(f"http://{site.host}/public")).status == 200


async def test_robots_crawl_delay_is_honoured(serve: Any) -> None:
    site = serve(Site(robots=(200, "User-agent: *\nCrawl-delay: 0.3\n"), serve_s=0.0))
    fetcher = polite_fetcher(site, delay=0.02)
    for i in range(3):
        await fetcher.get(f"http://{site.host}/page/{i}")
    gaps = site.gaps()
    assert site.paths()[0] == "/robots.txt"
    assert gaps[0] >= 0.02 - SLACK_S  # after robots.txt itself: its delay was not known yet
    assert min(gaps[1:]) >= 0.3 - SLACK_S, gaps


async def test_retry_after_on_429_delays_the_next_request(serve: Any) -> None:
    site = serve(Site(serve_s=0.0))
    fetcher = polite_fetcher(site, delay=0.01, robots=False)
    busy = await fetcher.get(f"http://{site.host}/busy")
    assert busy.status == 429
    await fetcher.get(f"http://{site.host}/page/1")
    assert site.paths() == ["/busy", "/page/1"]
    assert site.gaps()[0] >= 1.0 - SLACK_S


async def test_raw_fetcher_is_neither_polite_nor_robots_bound(serve: Any) -> None:
    site = serve(Site(robots=(503, "down"), serve_s=0.1))
    fetcher = HttpFetcher(Settings(fetch_allow_hosts=(site.host,), fetch_host_delay_s=5.0))
    OPEN.append(fetcher)
    pages = await fetch_all(fetcher, [f"http://{site.host}/page/{i}" for i in range(3)])
    assert [p.status for p in pages] == [200] * 3
    assert "/robots.txt" not in site.paths()
    assert min(site.gaps()) < 0, "a raw fetcher sends the three requests at once"

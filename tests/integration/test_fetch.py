"""The safe fetcher against real local servers: the SSRF matrix, bombs, drips and redirects.

Every trick that lands on loopback is aimed at a canary listener that must see 0 connections;
private, CGNAT, link-local and metadata ranges come from a resolver twin and are refused
before any connection is attempted. Nothing leaves 127.0.0.0/8 (or ::1).
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpcore
import pytest

from shared.config import Settings
from shared.fetch import (
    FetchError,
    FetchTimeoutError,
    HttpFetcher,
    RefusedError,
    StaticResolver,
    TooLargeError,
    UnreachableError,
)
from shared.net import IPAddress

BOMB = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)
TEXT = b"<html><body>" + b"hello quarry " * 2000 + b"</body></html>"
DRIP_S = 30  # how long /drip and /stall keep the connection going unless the client leaves
# how each drip ended, as the server saw it: "abandoned" (the client closed) or "finished"
DRIPS: list[str] = []
DRIP_ENDED = threading.Event()


class _Site(BaseHTTPRequestHandler):
    """Routes that misbehave on purpose."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        route, query = url.path, parse_qs(url.query)
        if route == "/ok":
            self._send(200, TEXT)
        elif route == "/host":
            self._send(200, self.headers["Host"].encode(), "text/plain")
        elif route == "/gzip":
            self._send(200, gzip.compress(TEXT), encoding="gzip")
        elif route == "/deflate":
            raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
            self._send(200, raw.compress(TEXT) + raw.flush(), encoding="deflate")
        elif route == "/bomb":
            self._send(200, BOMB, encoding="gzip")
        elif route == "/br":
            self._send(200, b"\x1b\x00", encoding="br")
        elif route == "/image":
            self._send(200, b"\x89PNG\r\n", "image/png")
        elif route == "/missing":
            self._send(404, b"<h1>not here</h1>")
        elif route.startswith("/hop/"):
            left = int(route.rsplit("/", 1)[1])
            if left:
                self._redirect(f"/hop/{left - 1}")
            else:
                self._send(200, TEXT)
        elif route == "/to":
            self._redirect(query["url"][0])
        elif route == "/stream":
            self._head(200, "text/plain")
            for _ in range(8):
                self.wfile.write(b"x" * 256 * 1024)
        elif route == "/drip":
            self._drip(interval=0.05, record=True)
        elif route == "/stall":
            self._drip(interval=3.0)

    def _head(self, status: int, ctype: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def _send(self, status: int, body: bytes, ctype: str = "text/html", **more: str) -> None:
        extra = {"Content-Encoding": more["encoding"]} if "encoding" in more else {}
        self._head(status, ctype, Content_Length=str(len(body)), **extra)
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _drip(self, interval: float, record: bool = False) -> None:
        self._head(200, "text/html")
        end = time.monotonic() + DRIP_S
        try:
            while time.monotonic() < end:
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(interval)
        except OSError:
            ended = "abandoned"  # the fetcher gave up and closed the connection
        else:
            ended = "finished"
        if record:
            DRIPS.append(ended)
            DRIP_ENDED.set()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Canary:
    """Listening sockets on 127.0.0.1 (and ::1 on the same port where it exists) that never
    accept; every completed handshake waits in the backlog and is counted at the end."""

    def __init__(self) -> None:
        self.sockets = [socket.create_server(("127.0.0.1", 0), backlog=64)]
        self.port = self.sockets[0].getsockname()[1]
        try:
            v6 = socket.create_server(("::1", self.port), family=socket.AF_INET6, backlog=64)
            self.sockets.append(v6)
        except OSError:
            pass

    def connections(self) -> int:
        count = 0
        for sock in self.sockets:
            sock.setblocking(False)
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                count += 1
        return count

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    listener = Canary()
    yield listener
    listener.close()


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """A network that records where it was asked to connect and connects nowhere."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []

    async def connect_tcp(self, host: str, port: int, *args: Any, **kw: Any) -> Any:
        self.attempts.append((host, port))
        raise httpcore.ConnectError(f"recording backend: no network to {host}:{port}")


def fetcher_for(site: str, resolver: StaticResolver | None = None, **changes: Any) -> HttpFetcher:
    """A fetcher that may reach the test site's port on loopback, and nothing else local."""
    settings = Settings(**({"fetch_allow_hosts": (site,), "fetch_timeout_s": 3.0} | changes))
    return HttpFetcher(settings, resolver=resolver)


async def refusal(fetcher: HttpFetcher, url: str) -> tuple[str, str]:
    with pytest.raises(FetchError) as info:
        await fetcher.get(url)
    return info.value.outcome, info.value.detail


async def test_fetch_reads_pages_and_decodes_gzip_and_raw_deflate(site: str) -> None:
    fetcher = fetcher_for(site)
    pages = [await fetcher.get(f"http://{site}{p}") for p in ("/ok", "/gzip", "/deflate")]
    assert [(p.status, p.body, p.content_type) for p in pages] == [(200, TEXT, "text/html")] * 3


async def test_fetch_returns_error_statuses_as_pages_for_callers_to_judge(site: str) -> None:
    page = await fetcher_for(site).get(f"http://{site}/missing")
    assert (page.status, page.body) == (404, b"<h1>not here</h1>")


async def test_fetch_connects_by_checked_address_but_sends_the_name(site: str) -> None:
    port = site.rsplit(":", 1)[1]
    fetcher = HttpFetcher(
        Settings(fetch_allow_hosts=(f"demo.test:{port}",)),
        resolver=StaticResolver({"demo.test": ["127.0.0.1"]}),
    )
    page = await fetcher.get(f"http://demo.test:{port}/host")
    assert (page.status, page.text) == (200, f"demo.test:{port}")


LOOPBACK_TRICKS = [
    "http://127.0.0.1:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://0x7f.0.0.1:{port}/",
    "http://127.1:{port}/",
    "http://127.0.0.1.:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://0.0.0.0:{port}/",
    "http://canary.test:{port}/",
    "http://localhost:{port}/",
    "https://canary.test:{port}/",
]


@pytest.mark.parametrize("template", LOOPBACK_TRICKS)
async def test_fetch_refuses_every_loopback_trick_before_connecting(
    site: str, canary: Canary, template: str
) -> None:
    url = template.format(port=canary.port)
    twin = StaticResolver({"canary.test": ["127.0.0.1"], "localhost": ["127.0.0.1", "::1"]})
    outcome, detail = await refusal(fetcher_for(site, resolver=twin), url)
    assert outcome == "blocked", detail
    assert canary.connections() == 0


async def test_fetch_refuses_loopback_through_the_system_resolver(
    site: str, canary: Canary
) -> None:
    outcome, detail = await refusal(fetcher_for(site), f"http://localhost:{canary.port}/")
    assert (outcome, canary.connections()) == ("blocked", 0)
    assert "a non-public address (loopback)" in detail


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{port}/", "http://2130706433:{port}/", "http://[::1]:{port}/x"],
)
async def test_fetch_checks_every_redirect_hop(site: str, canary: Canary, target: str) -> None:
    hop = target.format(port=canary.port)
    outcome, detail = await refusal(fetcher_for(site), f"http://{site}/to?url={hop}")
    assert (outcome, canary.connections()) == ("blocked", 0), detail


async def test_fetch_refuses_redirects_to_other_schemes(site: str) -> None:
    outcome, detail = await refusal(fetcher_for(site), f"http://{site}/to?url=file:///etc/passwd")
    assert outcome == "blocked"
    assert "only http and https" in detail


NON_PUBLIC = {
    "intranet.test": ["10.0.0.7"],
    "office.test": ["192.168.1.20"],
    "docker.test": ["172.17.0.2"],
    "carrier.test": ["100.64.0.9"],
    "linklocal.test": ["169.254.3.4"],
    "metadata.test": ["169.254.169.254"],
    "v6metadata.test": ["fd00:ec2::254"],
    "ula.test": ["fd12:3456::1"],
    "v6linklocal.test": ["fe80::1"],
    "mapped.test": ["::ffff:10.0.0.1"],
    "multicast.test": ["224.0.0.251"],
    "mixed.test": ["93.184.216.34", "10.0.0.1"],
}


@pytest.mark.parametrize("name", sorted(NON_PUBLIC))
async def test_fetch_refuses_non_public_names_before_any_connection(name: str) -> None:
    network = RecordingBackend()
    fetcher = HttpFetcher(Settings(), resolver=StaticResolver(NON_PUBLIC), network=network)
    outcome, detail = await refusal(fetcher, f"https://{name}/latest/meta-data/")
    assert (outcome, network.attempts) == ("blocked", [])
    assert f"{name} resolves to" in detail


async def test_fetch_dials_the_address_it_checked_not_a_second_lookup() -> None:
    class RebindingResolver:
        """Public on the first answer, loopback on every later one."""

        def __init__(self) -> None:
            self.calls = 0

        async def resolve(self, host: str, port: int) -> list[IPAddress]:
            self.calls += 1
            answer = "93.184.216.34" if self.calls == 1 else "127.0.0.1"
            return (await StaticResolver({host: [answer]}).resolve(host, port))[:1]

    network, resolver = RecordingBackend(), RebindingResolver()
    fetcher = HttpFetcher(Settings(), resolver=resolver, network=network)
    outcome, _ = await refusal(fetcher, "http://rebind.test/")
    assert (outcome, network.attempts, resolver.calls) == (
        "unreachable",
        [("93.184.216.34", 80)],
        1,
    )


async def test_fetch_allows_private_networks_only_when_listed(site: str) -> None:
    fetcher = HttpFetcher(Settings(fetch_allow_hosts=("127.0.0.0/8",)))
    page = await fetcher.get(f"http://{site}/ok")
    assert page.status == 200
    outcome, _ = await refusal(HttpFetcher(Settings(fetch_allow_hosts=("10.0.0.0/8",))), site)
    assert outcome == "blocked"


async def test_fetch_stops_a_gzip_bomb_at_the_cap_with_bounded_memory(site: str) -> None:
    fetcher = fetcher_for(site)  # the default cap: 10 MiB
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError) as info:
            await fetcher.get(f"http://{site}/bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.outcome == "too_large"
    assert "passes 10485760 bytes once decompressed" in info.value.detail
    assert peak < 16 * 1024 * 1024  # the 50 MiB inside never materialises


async def test_fetch_caps_plain_bodies_while_streaming(site: str) -> None:
    fetcher = fetcher_for(site, fetch_max_bytes=1024 * 1024)
    outcome, detail = await refusal(fetcher, f"http://{site}/stream")
    assert outcome == "too_large", detail
    page = await fetcher.get(f"http://{site}/stream", max_bytes=4 * 1024 * 1024)
    assert len(page.body) == 2 * 1024 * 1024


async def test_fetch_gives_up_on_a_slow_drip_at_the_total_timeout(site: str) -> None:
    fetcher = fetcher_for(site, fetch_timeout_s=1.0, fetch_read_timeout_s=0.5)
    DRIPS.clear()
    DRIP_ENDED.clear()
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError) as info:
        await fetcher.get(f"http://{site}/drip")
    assert time.monotonic() - started >= 0.9  # not before the total timeout
    assert info.value.detail == f"http://{site}/drip: no complete response within 1 s"
    # and long before the server's 30 s drip ended: the server saw the client leave
    ended = await asyncio.to_thread(DRIP_ENDED.wait, DRIP_S + 10)
    assert ended, "the server's drip never ended"
    assert DRIPS == ["abandoned"], f"the server's drip ended as {DRIPS}, not abandoned"


async def test_fetch_gives_up_on_a_silent_server_at_the_read_timeout(site: str) -> None:
    fetcher = fetcher_for(site, fetch_timeout_s=5.0, fetch_read_timeout_s=0.3)
    outcome, detail = await refusal(fetcher, f"http://{site}/stall")
    # the read timeout (0.3 s) ended it, not the total one (5 s) nor the server (30 s)
    assert (outcome, "read timed out" in detail) == ("timeout", True)


async def test_fetch_follows_five_redirects_and_refuses_a_sixth(site: str) -> None:
    fetcher = fetcher_for(site)
    page = await fetcher.get(f"http://{site}/hop/5")
    assert (page.status, page.url) == (200, f"http://{site}/hop/0")
    outcome, detail = await refusal(fetcher, f"http://{site}/hop/6")
    assert (outcome, detail) == (
        "http_error",
        f"http://{site}/hop/6: more than 5 redirects (last to http://{site}/hop/0)",
    )


async def test_fetch_refuses_types_and_encodings_the_caller_does_not_accept(site: str) -> None:
    fetcher = fetcher_for(site)
    outcome, detail = await refusal(fetcher, f"http://{site}/image")
    assert outcome == "unsupported_type"
    assert "content type 'image/png' is not accepted here" in detail
    page = await fetcher.get(f"http://{site}/image", types=None)
    assert page.content_type == "image/png"
    outcome, detail = await refusal(fetcher, f"http://{site}/br")
    assert (outcome, "content-encoding 'br' is not supported" in detail) == (
        "unsupported_type",
        True,
    )


async def test_fetch_reports_unreachable_hosts(site: str, canary: Canary) -> None:
    port = canary.port
    canary.close()  # nothing listens there now
    fetcher = HttpFetcher(Settings(fetch_allow_hosts=(f"127.0.0.1:{port}",)))
    outcome, _ = await refusal(fetcher, f"http://127.0.0.1:{port}/")
    assert outcome == "unreachable"
    twin = HttpFetcher(Settings(), resolver=StaticResolver({}))
    outcome, detail = await refusal(twin, "http://nowhere.test/")
    assert (outcome, detail) == (
        "unreachable",
        "cannot resolve 'nowhere.test': not in the resolver's table",
    )


async def test_fetch_failures_are_never_other_exceptions() -> None:
    fetcher = HttpFetcher(Settings(), resolver=StaticResolver({}))
    for url in ("", "not a url", "http://", "http://[::1", "http://a:99999/", "ftp://x/"):
        with pytest.raises(FetchError):
            await fetcher.get(url)


async def test_canary_counts_a_connection_the_fetcher_is_allowed_to_make(canary: Canary) -> None:
    allowed = Settings(fetch_allow_hosts=(f"127.0.0.1:{canary.port}",), fetch_timeout_s=0.3)
    fetcher = HttpFetcher(allowed)
    outcome, _ = await refusal(fetcher, f"http://127.0.0.1:{canary.port}/")
    assert (outcome, canary.connections()) == ("timeout", 1)


async def test_check_admits_public_names_and_refuses_the_rest() -> None:
    fetcher = HttpFetcher(
        Settings(), resolver=StaticResolver({"public.test": ["93.184.216.34"], **NON_PUBLIC})
    )
    await fetcher.check("https://public.test/page")
    with pytest.raises(
        RefusedError, match=r"169\.254\.169\.254, a non-public address \(metadata\)"
    ):
        await fetcher.check("http://metadata.test/")
    with pytest.raises(UnreachableError):
        await fetcher.check("http://unknown.test/")

"""The HttpFetcher: GET a URL safely, following checked redirects, under size and time limits."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from shared.config import Settings
from shared.fetch.body import ACCEPT_ENCODING, CappedBody
from shared.fetch.errors import (
    FetchError,
    FetchTimeoutError,
    RefusedError,
    TooLargeError,
    UnreachableError,
    UnsupportedTypeError,
)
from shared.fetch.guard import Guard, GuardedBackend, GuardedTransport
from shared.fetch.polite import host_delay, pause_after
from shared.fetch.resolve import Resolver, SystemResolver
from shared.fetch.robots import RobotsGate
from shared.net import parse_host
from shared.ports import Cache, Page, Politeness

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PAGE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "application/atom+xml",
        "text/plain",
        "application/gzip",
        "application/x-gzip",
    }
)


def target(url: str) -> tuple[str, int]:
    """Host and port of an http(s) URL; RefusedError for any other scheme or a bad host."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
        if scheme not in ("http", "https") or not host:
            raise RefusedError(f"refused {url!r}: only http and https URLs with a host are fetched")
        port = parts.port or (443 if scheme == "https" else 80)
        parse_host(host)
    except ValueError as exc:
        raise RefusedError(f"refused {url!r}: {exc}") from exc
    return host, port


class HttpFetcher:
    """Fetches pages for every stage. Each connection is made only to an address the Guard
    checked, each redirect hop is a new request checked the same way, the decoded body is
    capped while it streams, and connect, read and total time are bounded.

    Built with a `politeness` port, each hop waits for its host's slot and leaves a pause
    after it (see shared.fetch.polite); built with a `cache`, each hop's origin must allow it
    in robots.txt (see shared.fetch.robots). The Runtime builds it with both; without them
    it is the raw fetcher. `resolver` and `network` (an httpcore network backend) are
    injectable so tests can use a fixed name table and prove no connection is even attempted.
    """

    def __init__(
        self,
        settings: Settings,
        resolver: Resolver | None = None,
        network: httpcore.AsyncNetworkBackend | None = None,
        *,
        politeness: Politeness | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.settings = settings
        self.guard = Guard(settings.fetch_allow_hosts, resolver or SystemResolver())
        self._backend = GuardedBackend(self.guard, network or httpcore.AnyIOBackend())
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()
        self.politeness = politeness
        self.robots = RobotsGate(self, cache) if cache is not None else None

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            s = self.settings
            client = httpx.AsyncClient(
                transport=GuardedTransport(self._backend),
                timeout=httpx.Timeout(
                    s.fetch_timeout_s,
                    connect=min(s.fetch_connect_timeout_s, s.fetch_timeout_s),
                    read=min(s.fetch_read_timeout_s, s.fetch_timeout_s),
                ),
                headers={"user-agent": s.user_agent, "accept-encoding": ACCEPT_ENCODING},
                follow_redirects=False,
                trust_env=False,
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close this loop's connections (a loop that ends with them open warns)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def check(self, url: str) -> None:
        """Raise RefusedError unless `url` is http(s) and every address it resolves to may be
        fetched (UnreachableError if it does not resolve). `get` checks at connect time."""
        host, port = target(url)
        await self.guard.admit(host, port)

    async def get(
        self,
        url: str,
        *,
        types: Collection[str] | None = PAGE_TYPES,
        max_bytes: int | None = None,
        headers: Mapping[str, str] | None = None,
        truncate: bool = False,
        obey_robots: bool = True,
    ) -> Page:
        """GET `url`, following up to 5 redirects, each hop checked again.

        A 2xx response whose media type is not in `types` (None accepts any) is refused
        before its body is read; a missing Content-Type is accepted. `headers` are sent with
        the first hop only (If-None-Match / If-Modified-Since for a conditional GET; a 304
        comes back as a Page with an empty body). The body is decoded (gzip, deflate) under
        `max_bytes` (default: the fetch_max_bytes setting), or cut there with `truncate`.
        The total time limit counts time on the wire, not time waiting for a host's turn.
        `obey_robots=False` skips robots.txt (the gate's own fetches). Every failure is a
        FetchError whose `outcome` names it; no other exception escapes.
        """
        cap = max_bytes if max_bytes is not None else self.settings.fetch_max_bytes
        read = Reading(types, cap, truncate)
        left = self.settings.fetch_timeout_s
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            host, port = target(current)
            sent = (headers or {}) if current == url else {}
            found, spent = await self._hop(current, host, port, sent, read, left, obey_robots)
            if isinstance(found, Page):
                return found
            current, left = found, left - spent
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (last to {current})")

    async def _hop(
        self,
        url: str,
        host: str,
        port: int,
        headers: Mapping[str, str],
        read: Reading,
        left: float,
        obey_robots: bool,
    ) -> tuple[Page | str, float]:
        """One request, in the host's turn when polite: the Page, or where it redirects."""
        crawl_delay = None
        if obey_robots and self.robots is not None:
            crawl_delay = await self.robots.admit(url, origin_of(url, host, port))
        key = f"{host.lower()}:{port}"
        token = await self.politeness.acquire(key, left + 1) if self.politeness else None
        started = time.monotonic()
        status: int | None = None
        asked: str | None = None
        try:
            async with asyncio.timeout(max(left, 0.001)):
                async with self._client().stream("GET", url, headers=headers) as resp:
                    status, asked = resp.status_code, resp.headers.get("retry-after")
                    location = resp.headers.get("location")
                    if resp.status_code in REDIRECT_STATUSES and location:
                        return _join(str(resp.url), location), time.monotonic() - started
                    return await _read(resp, read), time.monotonic() - started
        except TimeoutError as exc:
            total = self.settings.fetch_timeout_s
            raise FetchTimeoutError(f"{url}: no complete response within {total:g} s") from exc
        except httpx.TimeoutException as exc:
            kind = type(exc).__name__.replace("Timeout", "").lower() or "request"
            raise FetchTimeoutError(f"{url}: {kind} timed out ({exc})") from exc
        except httpx.ConnectError as exc:
            raise UnreachableError(f"{url}: cannot connect: {exc}") from exc
        except httpx.InvalidURL as exc:
            raise RefusedError(f"refused {url!r}: not a valid URL ({exc})") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        finally:
            if self.politeness is not None and token is not None:
                base = self._base_delay(host, port)
                wait = pause_after(host_delay(base, crawl_delay), status, asked)
                await self.politeness.release(key, token, wait)

    def _base_delay(self, host: str, port: int) -> float:
        s = self.settings
        listed = self.guard.is_listed(host, port)
        return s.fetch_listed_host_delay_s if listed else s.fetch_host_delay_s


@dataclass(frozen=True)
class Reading:
    """How a response body is read: accepted types, the cap, and whether to cut at it."""

    types: Collection[str] | None
    cap: int
    truncate: bool


def origin_of(url: str, host: str, port: int) -> str:
    """`scheme://host:port` of `url`, the key its robots.txt is cached under."""
    shown = f"[{host}]" if ":" in host else host
    return f"{urlsplit(url).scheme.lower()}://{shown.lower()}:{port}"


def _join(base: str, location: str) -> str:
    try:
        return urljoin(base, location)
    except ValueError as exc:
        raise RefusedError(f"refused redirect from {base} to {location!r}: {exc}") from exc


async def _read(resp: httpx.Response, read: Reading) -> Page:
    """Check the type and declared length, then stream the body through the cap."""
    url = str(resp.url)
    types, cap = read.types, read.cap
    content_type = resp.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if 200 <= resp.status_code < 300 and types is not None and media and media not in types:
        raise UnsupportedTypeError(
            f"{url}: content type {media!r} is not accepted here; "
            f"accepted: {', '.join(sorted(types))}"
        )
    body = CappedBody(resp.headers.get("content-encoding", ""), cap, url, read.truncate)
    declared = resp.headers.get("content-length", "")
    if not read.truncate and body.coding is None and declared.isdigit() and int(declared) > cap:
        raise TooLargeError(f"{url}: declares {declared} bytes, more than the {cap} allowed")
    async for chunk in resp.aiter_raw():
        body.feed(chunk)
        if body.full:
            break
    return Page(
        url,
        resp.status_code,
        content_type,
        body.finish(),
        resp.headers.get("etag"),
        resp.headers.get("last-modified"),
    )

"""The Fetcher: GET a URL safely, following checked redirects, under size and time limits."""

from __future__ import annotations

import asyncio
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
from shared.fetch.resolve import Resolver, SystemResolver
from shared.net import parse_host

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


@dataclass(frozen=True)
class Page:
    """A response the fetcher read in full: final URL, status, content type, decoded body.
    Any HTTP status comes back as a Page (a 404 robots.txt means something); callers decide."""

    url: str
    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


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


class Fetcher:
    """Fetches pages for every stage. Each connection is made only to an address the Guard
    checked, each redirect hop is a new request checked the same way, the decoded body is
    capped while it streams, and connect, read and total time are bounded.

    `resolver` and `network` (an httpcore network backend) are injectable so tests can use
    a fixed name table and prove no connection is even attempted.
    """

    def __init__(
        self,
        settings: Settings,
        resolver: Resolver | None = None,
        network: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.settings = settings
        self.guard = Guard(settings.fetch_allow_hosts, resolver or SystemResolver())
        self._backend = GuardedBackend(self.guard, network or httpcore.AnyIOBackend())
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()

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
    ) -> Page:
        """GET `url`, following up to 5 redirects, each hop checked again.

        A 2xx response whose media type is not in `types` (None accepts any) is refused
        before its body is read; a missing Content-Type is accepted. `headers` are sent with
        the first hop only (If-None-Match / If-Modified-Since for a conditional GET; a 304
        comes back as a Page with an empty body). The body is decoded
        (gzip, deflate) under `max_bytes` (default: the fetch_max_bytes setting). Every
        failure is a FetchError whose `outcome` names it; no other exception escapes.
        """
        total = self.settings.fetch_timeout_s
        cap = max_bytes if max_bytes is not None else self.settings.fetch_max_bytes
        try:
            async with asyncio.timeout(total):
                return await self._follow(url, types, cap, headers or {})
        except TimeoutError as exc:
            raise FetchTimeoutError(f"{url}: no complete response within {total:g} s") from exc

    async def _follow(
        self, url: str, types: Collection[str] | None, cap: int, headers: Mapping[str, str]
    ) -> Page:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            target(current)
            try:
                sent = headers if current == url else {}
                async with self._client().stream("GET", current, headers=sent) as resp:
                    location = resp.headers.get("location")
                    if resp.status_code in REDIRECT_STATUSES and location:
                        current = _join(str(resp.url), location)
                        continue
                    return await _read(resp, types, cap)
            except httpx.TimeoutException as exc:
                kind = type(exc).__name__.replace("Timeout", "").lower() or "request"
                raise FetchTimeoutError(f"{current}: {kind} timed out ({exc})") from exc
            except httpx.ConnectError as exc:
                raise UnreachableError(f"{current}: cannot connect: {exc}") from exc
            except httpx.InvalidURL as exc:
                raise RefusedError(f"refused {current!r}: not a valid URL ({exc})") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{current}: {type(exc).__name__}: {exc}") from exc
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (last to {current})")


def _join(base: str, location: str) -> str:
    try:
        return urljoin(base, location)
    except ValueError as exc:
        raise RefusedError(f"refused redirect from {base} to {location!r}: {exc}") from exc


async def _read(resp: httpx.Response, types: Collection[str] | None, cap: int) -> Page:
    """Check the type and declared length, then stream the body through the cap."""
    url = str(resp.url)
    content_type = resp.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if 200 <= resp.status_code < 300 and types is not None and media and media not in types:
        raise UnsupportedTypeError(
            f"{url}: content type {media!r} is not accepted here; "
            f"accepted: {', '.join(sorted(types))}"
        )
    body = CappedBody(resp.headers.get("content-encoding", ""), cap, url)
    declared = resp.headers.get("content-length", "")
    if body.coding is None and declared.isdigit() and int(declared) > cap:
        raise TooLargeError(f"{url}: declares {declared} bytes, more than the {cap} allowed")
    async for chunk in resp.aiter_raw():
        body.feed(chunk)
    return Page(
        url,
        resp.status_code,
        content_type,
        body.finish(),
        resp.headers.get("etag"),
        resp.headers.get("last-modified"),
    )

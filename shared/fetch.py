"""A safe fetcher: http(s) only, no private or metadata addresses, bounded size and time."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import weakref
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from shared.config import Settings
from shared.errors import QuarryError

MAX_REDIRECTS = 5


class FetchError(QuarryError):
    """A page could not be fetched: refused by policy, unreachable, or too large."""

    status = 502
    title = "Fetch failed"
    slug = "fetch"


class RefusedError(FetchError):
    """The URL points somewhere the fetcher must never go."""

    title = "Fetch refused"
    slug = "fetch-refused"


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def is_public_address(ip: str) -> bool:
    """True for globally routable addresses; loopback, private, link-local are not."""
    addr = ipaddress.ip_address(ip)
    return addr.is_global and not addr.is_multicast


class Fetcher:
    """Fetches pages for the pipeline. Every hop of a redirect chain is checked again."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.allow = {h.lower() for h in settings.fetch_allow_hosts}
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = httpx.AsyncClient(
                timeout=self.settings.fetch_timeout_s,
                headers={"user-agent": self.settings.user_agent},
                follow_redirects=False,
                trust_env=False,
            )
            self._clients[loop] = client
        return client

    async def check(self, url: str) -> None:
        """Raise RefusedError unless `url` is http(s) and resolves only to allowed addresses."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RefusedError(f"refused {url!r}: only http and https URLs with a host are fetched")
        host = parts.hostname.lower()
        hostport = f"{host}:{parts.port}" if parts.port else host
        if host in self.allow or hostport in self.allow:
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, parts.port or 80, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise FetchError(f"cannot resolve {host!r}: {exc}") from exc
        for info in infos:
            ip = str(info[4][0])
            if not is_public_address(ip):
                raise RefusedError(f"refused {url!r}: {host} resolves to non-public address {ip}")

    async def get(self, url: str) -> Page:
        """GET `url`, following up to 5 redirects, each checked; body capped in size."""
        for _ in range(MAX_REDIRECTS + 1):
            await self.check(url)
            try:
                async with self._client().stream("GET", url) as resp:
                    if resp.is_redirect and "location" in resp.headers:
                        url = urljoin(url, resp.headers["location"])
                        continue
                    body = bytearray()
                    async for chunk in resp.aiter_bytes():
                        body += chunk
                        if len(body) > self.settings.fetch_max_bytes:
                            raise FetchError(
                                f"{url}: body exceeds {self.settings.fetch_max_bytes} bytes"
                            )
                    return Page(
                        str(resp.url),
                        resp.status_code,
                        resp.headers.get("content-type", ""),
                        bytes(body),
                    )
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

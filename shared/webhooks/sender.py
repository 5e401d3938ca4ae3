"""Posting signed events to subscribers through the fetcher's address guard.

Subscriber URLs are hostile input: each connection goes to an address the Guard checked
(public only, unless listed in QUARRY_FETCH_ALLOW_HOSTS), redirects are not followed (a
3xx is a failed attempt), the whole POST has one deadline (httpx's read timeout restarts
with every byte, so a subscriber dripping its answer would otherwise hold it for ever), and
the response body is never read.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpcore
import httpx

from shared.config import Settings
from shared.fetch.errors import FetchError
from shared.fetch.fetcher import target
from shared.fetch.guard import Guard, GuardedBackend, GuardedTransport
from shared.fetch.resolve import Resolver, SystemResolver
from shared.webhooks.signature import sign_standard


@dataclass(frozen=True)
class Attempt:
    """One POST's result: the status when the subscriber answered, else what went wrong."""

    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Sender:
    """Signs (Standard Webhooks) and posts one event; never raises for a bad subscriber."""

    def __init__(
        self,
        settings: Settings,
        resolver: Resolver | None = None,
        network: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.settings = settings
        guard = Guard(settings.fetch_allow_hosts, resolver or SystemResolver())
        self.backend = GuardedBackend(guard, network or httpcore.AnyIOBackend())

    def client(self) -> httpx.AsyncClient:
        s = self.settings
        return httpx.AsyncClient(
            transport=GuardedTransport(self.backend),
            timeout=httpx.Timeout(s.fetch_timeout_s, connect=s.fetch_connect_timeout_s),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": s.user_agent},
        )

    async def post(
        self, client: httpx.AsyncClient, url: str, secret: str, msg_id: str, body: bytes
    ) -> Attempt:
        stamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign_standard(secret, msg_id, stamp, body),
        }
        deadline = self.settings.fetch_timeout_s
        try:
            target(url)
            async with asyncio.timeout(deadline):
                async with client.stream("POST", url, content=body, headers=headers) as resp:
                    status = resp.status_code
        except TimeoutError:
            return Attempt(
                None, f"no complete answer within {deadline:g} s (QUARRY_FETCH_TIMEOUT_S)"
            )
        except FetchError as exc:
            return Attempt(None, exc.detail)
        except httpx.HTTPError as exc:
            return Attempt(None, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= status < 300:
            return Attempt(status, None)
        return Attempt(status, f"subscriber answered {status}")

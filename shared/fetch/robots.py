"""robots.txt in the fetch path: each origin's file fetched once, cached, and obeyed.

RFC 9309 §2.3.1 as `policy_for_status` reads it: a 2xx file is parsed (its first 500 KiB), a
4xx means no rules, and a 5xx, 429 or no answer means nothing on the origin is fetched. The
verdict is cached under `robots:{origin}` for the robots_cache_s setting (at most 24 h); a
deny from a failed fetch only for 5 minutes, so one bad minute does not close a site for a day.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from shared.fetch.errors import FetchError, RefusedError, RobotsDisallowedError
from shared.pipeline.robots import (
    MAX_BYTES,
    Policy,
    crawl_delay,
    is_allowed,
    path_of,
    policy_for_status,
    product_token,
)
from shared.ports import Cache

if TYPE_CHECKING:
    from shared.fetch.fetcher import HttpFetcher

MAX_TTL_S = 24 * 3600.0
DENY_TTL_S = 300.0


@dataclass(frozen=True)
class Verdict:
    """What an origin's robots.txt fetch came to: a policy, the file, and why if denied."""

    policy: Policy
    text: str = ""
    detail: str = ""


def is_robots_url(url: str) -> bool:
    """Whether `url` is a robots.txt itself, which is always fetched without asking itself."""
    return path_of(url).split("?", 1)[0] == "/robots.txt"


class RobotsGate:
    """Admits page URLs by their origin's robots.txt, fetched through the fetcher's own
    polite path (never through itself) and cached in the cache port."""

    def __init__(self, fetcher: HttpFetcher, cache: Cache) -> None:
        self.fetcher = fetcher
        self.cache = cache
        self.ttl_s = min(fetcher.settings.robots_cache_s, MAX_TTL_S)
        self._inflight: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Future[Verdict]] = {}

    async def admit(self, url: str, origin: str) -> float | None:
        """The origin's Crawl-delay for this crawler, if any; RobotsDisallowedError when the
        file forbids `url` or could not be read."""
        if is_robots_url(url):
            return None
        verdict = await self.verdict(origin)
        agent = self.fetcher.settings.user_agent
        if verdict.policy == "deny_all":
            raise RobotsDisallowedError(f"{url}: {verdict.detail}")
        if verdict.policy == "allow_all":
            return None
        if not is_allowed(verdict.text, agent, url):
            raise RobotsDisallowedError(
                f"{url}: {origin}/robots.txt disallows this path for {product_token(agent)}"
            )
        return crawl_delay(verdict.text, agent)

    async def verdict(self, origin: str) -> Verdict:
        """The cached verdict, or one fetch of robots.txt shared by every caller on this loop."""
        key = f"robots:{origin}"
        cached = await self.cache.get(key)
        if cached is not None:
            return Verdict(**json.loads(cached))
        slot = (asyncio.get_running_loop(), origin)
        pending = self._inflight.get(slot)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        self._inflight[slot] = future
        try:
            found = await self._fetch(origin)
            ttl = self.ttl_s if found.policy != "deny_all" else min(self.ttl_s, DENY_TTL_S)
            await self.cache.set(key, json.dumps(asdict(found)).encode(), ttl)
            future.set_result(found)
            return found
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved here, so one nobody awaited logs nothing
            raise
        finally:
            del self._inflight[slot]

    async def _fetch(self, origin: str) -> Verdict:
        url = f"{origin}/robots.txt"
        try:
            page = await self.fetcher.get(
                url, types=None, max_bytes=MAX_BYTES + 1, truncate=True, obey_robots=False
            )
        except RefusedError:
            raise  # the origin itself may not be fetched: that outcome, not a robots one
        except FetchError as exc:
            return Verdict(
                "deny_all",
                detail=f"{url} could not be fetched ({exc.outcome}), so nothing on {origin} "
                "is fetched until it can be (RFC 9309)",
            )
        policy = policy_for_status(page.status)
        if policy == "deny_all":
            return Verdict(
                policy,
                detail=f"{url} answered {page.status}, so nothing on {origin} is fetched "
                "until it answers (RFC 9309)",
            )
        return Verdict(policy, page.text if policy == "parse" else "")

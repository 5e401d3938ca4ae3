"""A link crawl: breadth first from start URLs, within a scope, robots.txt respected."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.discovery.report import Discovery
from shared.fetch import FetchError
from shared.pipeline import robots
from shared.pipeline.links import Scope, extract_links
from shared.pipeline.urlpatterns import compile_patterns
from shared.pipeline.urls import normalize_url
from shared.ports import Fetcher

MAX_DEPTH = 10
MAX_PAGES = 5_000
_HTML = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class CrawlOptions:
    """How far a crawl goes. `path_prefix` None means the first start URL's directory;
    `include`/`exclude` are RE2 regular expressions searched in the full URL."""

    max_depth: int = 2
    max_pages: int = 200
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    path_prefix: str | None = None
    follow_nofollow: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.max_depth <= MAX_DEPTH:
            raise ValueError(f"max_depth is {self.max_depth}; expected 0 to {MAX_DEPTH}")
        if not 1 <= self.max_pages <= MAX_PAGES:
            raise ValueError(f"max_pages is {self.max_pages}; expected 1 to {MAX_PAGES}")
        if self.path_prefix is not None and not self.path_prefix.startswith("/"):
            raise ValueError(f"path_prefix {self.path_prefix!r} must start with /")
        compile_patterns(self.include + self.exclude)

    def scope(self, starts: list[str]) -> Scope:
        """The first start URL's directory (or `path_prefix`) on every start URL's host."""
        first = Scope.around(starts[0], self.path_prefix, self.include, self.exclude)
        hosts = frozenset(urlsplit(url).netloc for url in starts) | first.hosts
        return Scope(hosts, first.path_prefix, first.include, first.exclude)


def crawl_options(stored: Mapping[str, Any] | None) -> CrawlOptions | None:
    """A source's stored `crawl` column as options; None (the defaults) when it has none."""
    if not stored:
        return None
    return CrawlOptions(
        max_depth=int(stored.get("max_depth", 2)),
        max_pages=int(stored.get("max_pages", 200)),
        include=tuple(stored.get("include") or ()),
        exclude=tuple(stored.get("exclude") or ()),
        path_prefix=stored.get("path_prefix"),
        follow_nofollow=bool(stored.get("follow_nofollow", False)),
    )


class RobotsCache:
    """One robots.txt per origin, read on first use: 2xx parsed, 4xx allows everything,
    5xx, 429 or no answer disallows everything (RFC 9309 §2.3.1)."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.user_agent = fetcher.settings.user_agent
        self._files: dict[str, robots.Robots | robots.Policy] = {}

    async def refusal(self, url: str) -> str | None:
        """None when `url` may be fetched, else why not."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._files:
            self._files[origin] = await self._read(origin)
        rules = self._files[origin]
        if rules == "allow_all":
            return None
        if rules == "deny_all":
            return "robots.txt unavailable (server error or unreachable), so nothing is fetched"
        assert isinstance(rules, robots.Robots)
        return None if rules.is_allowed(self.user_agent, url) else "disallowed by robots.txt"

    async def _read(self, origin: str) -> robots.Robots | robots.Policy:
        try:
            page = await self.fetcher.get(f"{origin}/robots.txt")
        except FetchError:
            return "deny_all"
        policy = robots.policy_for_status(page.status)
        if policy == "parse":
            return robots.parse(page.body[: robots.MAX_BYTES].decode("utf-8", "replace"))
        return policy


async def crawl(
    fetcher: Fetcher, starts: list[str], options: CrawlOptions, report: Discovery
) -> None:
    """Add the pages reachable from `starts` within `options`' scope to `report`.

    A page is known by its canonical link when it names one in scope. Pages that cannot
    be fetched, are disallowed, or lie beyond the limits are skipped with the reason; they
    never fail the whole discovery.
    """
    scope = options.scope(starts)
    rules = RobotsCache(fetcher)
    queue: deque[tuple[str, int]] = deque()
    queued: set[str] = set()
    for start in starts:
        url = normalize_url(start)
        if url not in queued:
            queued.add(url)
            queue.append((url, 0))
    pages = 0
    held: dict[str, None] = {}
    while queue:
        url, depth = queue.popleft()
        if pages >= options.max_pages:
            report.skip(url, f"not fetched: max_pages {options.max_pages} reached")
            continue
        if refusal := await rules.refusal(url):
            report.skip(url, refusal)
            continue
        try:
            page = await fetcher.get(url)
        except FetchError as exc:
            report.skip(url, f"fetch failed ({exc.outcome}): {exc.detail}")
            continue
        if page.status >= 400:
            report.skip(url, f"answered HTTP {page.status}")
            continue
        pages += 1
        if page.content_type.split(";", 1)[0].strip().lower() not in (*_HTML, ""):
            report.add(page.url)
            continue
        links = extract_links(page.text, page.url, follow_nofollow=options.follow_nofollow)
        identity = (
            links.canonical if links.canonical and not scope.in_scope(links.canonical) else None
        )
        if identity and identity != url and report.is_seen(identity):
            report.skip(url, f"duplicate of its canonical {identity}")
        else:
            report.add(identity or page.url)
        if identity:
            queued.add(identity)  # known by its canonical: no need to fetch that again
        held.update(dict.fromkeys(links.nofollow))
        for link in links.urls:
            if link in queued:
                continue
            queued.add(link)
            if reason := scope.in_scope(link):
                report.skip(link, reason)
            elif depth >= options.max_depth:
                report.skip(link, f"deeper than max_depth {options.max_depth}")
            else:
                queue.append((link, depth + 1))
    for link in held:
        if link not in queued:
            report.skip(link, "rel=nofollow")

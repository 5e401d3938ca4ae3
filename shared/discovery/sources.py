"""Discovery's readers: sitemaps (indexes, gzip, lastmod), feeds, a site's robots.txt
sitemaps and home-page feeds, and URL lists, each adding to one Discovery report."""

from __future__ import annotations

import re
from collections import deque
from datetime import UTC, datetime
from urllib.parse import urljoin

from shared.discovery.crawl import CrawlOptions, crawl
from shared.discovery.report import Discovery, DiscoveryError
from shared.fetch import PAGE_TYPES, FetchError
from shared.pipeline.feeds import FeedError, parse_feed
from shared.pipeline.robots import sitemaps as robots_sitemaps
from shared.pipeline.sitemap import SitemapError, parse_sitemap
from shared.ports import Fetcher

MAX_SITEMAPS = 50
SITEMAP_MAX_BYTES = 50 * 2**20  # the sitemaps.org limit, above the fetcher's page default
SITEMAP_TYPES = (*PAGE_TYPES, "application/gzip", "application/x-gzip", "application/octet-stream")
KINDS = ("site", "sitemap", "feed", "crawl", "urls")
_FEED_LINK = re.compile(
    r"<link\b[^>]*type=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE
)
_HREF = re.compile(r"href=[\"']([^\"']+)[\"']", re.IGNORECASE)


async def from_sitemap(
    fetcher: Fetcher,
    url: str,
    report: Discovery,
    since: datetime | None = None,
    *,
    strict: bool = True,
) -> bool:
    """Add a sitemap's URLs, following indexes breadth first up to MAX_SITEMAPS.

    Entries whose lastmod is before `since` are skipped as unchanged. A child sitemap that
    cannot be read is skipped with its reason; the sitemap at `url` itself raises when
    `strict`, else it is skipped too. Returns whether `url` itself was read.
    """
    queue: deque[str] = deque([url])
    seen: set[str] = set()
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        if len(seen) >= MAX_SITEMAPS:
            report.skip(current, f"sitemap not read: over the limit of {MAX_SITEMAPS} sitemaps")
            continue
        seen.add(current)
        try:
            page = await fetcher.get(current, types=SITEMAP_TYPES, max_bytes=SITEMAP_MAX_BYTES)
            if page.status >= 400:
                raise DiscoveryError(f"sitemap {current} answered HTTP {page.status}")
            sitemap = parse_sitemap(page.body)
        except (FetchError, SitemapError) as exc:
            detail = exc.detail if isinstance(exc, FetchError) else f"sitemap {current}: {exc}"
            if strict and current == url:
                raise DiscoveryError(detail) from exc
            report.skip(current, f"sitemap not read: {detail}")
            if current == url:
                return False
            continue
        for entry in sitemap.urls:
            if since is not None and entry.lastmod is not None and entry.lastmod < since:
                changed = f"lastmod {entry.lastmod:%Y-%m-%d}"
                report.skip(
                    urljoin(current, entry.loc),
                    f"unchanged since {since:%Y-%m-%d %H:%M} UTC ({changed})",
                )
            else:
                report.add(entry.loc, base=current)
        queue.extend(urljoin(current, child) for child in sitemap.sitemaps)
    return True


async def from_feed(fetcher: Fetcher, url: str, report: Discovery, *, strict: bool = True) -> bool:
    """Add the article links of an RSS or Atom feed; returns whether the feed was read."""
    try:
        page = await fetcher.get(url)
        if page.status >= 400:
            raise DiscoveryError(f"feed {url} answered HTTP {page.status}")
        entries = parse_feed(page.body)
    except (FetchError, FeedError) as exc:
        detail = exc.detail if isinstance(exc, FetchError) else f"feed {url}: {exc}"
        if strict:
            raise DiscoveryError(detail) from exc
        report.skip(url, f"feed not read: {detail}")
        return False
    for entry in entries:
        report.add(entry.url, base=url)
    return True


async def from_site(
    fetcher: Fetcher, root: str, report: Discovery, since: datetime | None = None
) -> None:
    """A whole site: the sitemaps robots.txt names (or /sitemap.xml), and the feeds the
    home page links to. Fails only when none of them can be read."""
    try:
        robots = await fetcher.get(urljoin(root, "/robots.txt"))
        sitemaps = robots_sitemaps(robots.text) if robots.status < 400 else []
    except FetchError:
        sitemaps = []
    read = False
    for sitemap in sitemaps or [urljoin(root, "/sitemap.xml")]:
        read |= await from_sitemap(fetcher, sitemap, report, since, strict=False)
    try:
        home = await fetcher.get(root)
        tags = _FEED_LINK.findall(home.text) if home.status < 400 else []
    except FetchError as exc:
        report.skip(root, f"home page not read: {exc.detail}")
        tags = []
    for tag in tags:
        if href := _HREF.search(tag):
            read |= await from_feed(fetcher, urljoin(root, href.group(1)), report, strict=False)
    if not read:
        reasons = "; ".join(reason for _, reason in report.skipped[:3])
        raise DiscoveryError(f"site {root}: no sitemap or feed could be read ({reasons})")


async def discover(
    fetcher: Fetcher,
    kind: str,
    url: str | None,
    urls: list[str],
    *,
    since: datetime | None = None,
    options: CrawlOptions | None = None,
) -> Discovery:
    """The page URLs one source yields, normalised and deduplicated, and the URLs left out
    with why. `since` (the last successful run's start) skips sitemap entries not modified
    after it; `options` bound a `crawl` source (default: CrawlOptions())."""
    report = Discovery()
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # SQLite hands back naive UTC datetimes
    if kind == "urls":
        for entry in urls:
            report.add(entry)
        return report
    if kind not in KINDS:
        raise DiscoveryError(f"unknown source kind {kind!r}; expected one of {', '.join(KINDS)}")
    if url is None:
        raise DiscoveryError(f"a `{kind}` source needs a URL")
    if kind == "sitemap":
        await from_sitemap(fetcher, url, report, since)
    elif kind == "feed":
        await from_feed(fetcher, url, report)
    elif kind == "site":
        await from_site(fetcher, url, report, since)
    else:
        await crawl(fetcher, [url], options or CrawlOptions(), report)
    return report


async def guess_kind(fetcher: Fetcher, url: str) -> str:
    """`sitemap` or `feed` when the document at `url` is one, else `site`."""
    try:
        page = await fetcher.get(url, types=SITEMAP_TYPES, max_bytes=SITEMAP_MAX_BYTES)
    except FetchError:
        return "site"
    if page.status >= 400:
        return "site"
    try:
        parse_sitemap(page.body)
        return "sitemap"
    except SitemapError:
        pass
    try:
        parse_feed(page.body)
        return "feed"
    except FeedError:
        return "site"

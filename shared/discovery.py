"""Discovery's I/O shell: read a source's sitemaps, feeds or URL list into page URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin

from shared.fetch import PAGE_TYPES, Fetcher, FetchError
from shared.pipeline.feeds import FeedError, parse_feed
from shared.pipeline.robots import sitemaps as robots_sitemaps
from shared.pipeline.sitemap import SitemapError, parse_sitemap
from shared.pipeline.urls import normalize_url

MAX_SITEMAPS = 50
SITEMAP_MAX_BYTES = 50 * 2**20  # the sitemaps.org limit, above the fetcher's page default
SITEMAP_TYPES = (*PAGE_TYPES, "application/gzip", "application/x-gzip", "application/octet-stream")
MAX_URLS = 5_000
_FEED_LINK = re.compile(
    r"<link\b[^>]*type=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE
)
_HREF = re.compile(r"href=[\"']([^\"']+)[\"']", re.IGNORECASE)


class DiscoveryError(FetchError):
    """The source itself could not be read."""

    title = "Discovery failed"
    slug = "discovery"


def dedupe(urls: Iterable[str], base: str | None = None) -> list[str]:
    """Normalised URLs in first-seen order, each once; unparseable ones dropped."""
    seen: dict[str, None] = {}
    for url in urls:
        try:
            seen.setdefault(normalize_url(url, base), None)
        except ValueError:
            continue
    return list(seen)[:MAX_URLS]


async def from_sitemap(fetcher: Fetcher, url: str) -> list[str]:
    """URLs of a sitemap, following sitemap indexes breadth first up to MAX_SITEMAPS."""
    queue: list[str] = [url]
    seen: set[str] = set()
    found: list[str] = []
    while queue and len(seen) < MAX_SITEMAPS:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        page = await fetcher.get(current, types=SITEMAP_TYPES, max_bytes=SITEMAP_MAX_BYTES)
        if page.status >= 400:
            raise DiscoveryError(f"sitemap {current} answered HTTP {page.status}")
        try:
            sitemap = parse_sitemap(page.body)
        except SitemapError as exc:
            raise DiscoveryError(f"sitemap {current}: {exc}") from exc
        found.extend(u.loc for u in sitemap.urls)
        queue.extend(sitemap.sitemaps)
    return found


async def from_feed(fetcher: Fetcher, url: str) -> list[str]:
    page = await fetcher.get(url)
    if page.status >= 400:
        raise DiscoveryError(f"feed {url} answered HTTP {page.status}")
    try:
        return [entry.url for entry in parse_feed(page.body)]
    except FeedError as exc:
        raise DiscoveryError(f"feed {url}: {exc}") from exc


async def from_site(fetcher: Fetcher, root: str) -> list[str]:
    """A whole site: the sitemaps robots.txt names (or /sitemap.xml), and the feeds the
    home page links to."""
    robots = await fetcher.get(urljoin(root, "/robots.txt"))
    sitemaps = robots_sitemaps(robots.text) if robots.status < 400 else []
    urls: list[str] = []
    for sitemap in sitemaps or [urljoin(root, "/sitemap.xml")]:
        urls += await from_sitemap(fetcher, sitemap)
    home = await fetcher.get(root)
    for tag in _FEED_LINK.findall(home.text) if home.status < 400 else []:
        href = _HREF.search(tag)
        if href:
            urls += await from_feed(fetcher, urljoin(root, href.group(1)))
    return urls


async def discover(fetcher: Fetcher, kind: str, url: str | None, urls: list[str]) -> list[str]:
    """Page URLs of one source, normalised and deduplicated."""
    if kind == "urls":
        return dedupe(urls)
    assert url is not None
    readers = {"sitemap": from_sitemap, "feed": from_feed, "site": from_site}
    return dedupe(await readers[kind](fetcher, url), base=url)

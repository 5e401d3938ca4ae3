"""Discovery's I/O shell: a source's sitemaps, feeds, link crawl or URL list into page URLs,
with every URL left out and why."""

from shared.discovery.crawl import CrawlOptions, crawl_options
from shared.discovery.report import MAX_URLS, Discovery, DiscoveryError
from shared.discovery.sources import KINDS, discover, guess_kind

__all__ = [
    "KINDS",
    "MAX_URLS",
    "CrawlOptions",
    "Discovery",
    "DiscoveryError",
    "crawl_options",
    "discover",
    "guess_kind",
]

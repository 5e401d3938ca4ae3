"""What discovery found: the URLs it would queue, and every URL it left out with the reason."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field

from shared.fetch import FetchError
from shared.pipeline.urls import normalize_url

MAX_URLS = 50_000  # one sitemap file's limit in the sitemaps protocol
MAX_SKIPPED = 5_000


class DiscoveryError(FetchError):
    """The source itself could not be read."""

    title = "Discovery failed"
    slug = "discovery"


@dataclass
class Discovery:
    """Page URLs to queue, normalised, each once, in first-seen order (at most MAX_URLS),
    and `(url, reason)` for each URL left out, so a user can see why a page is missing."""

    urls: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set, repr=False, compare=False)

    def add(self, url: str, base: str | None = None) -> bool:
        """Queue `url` unless seen before (queued or skipped); True when it was queued."""
        try:
            normal = normalize_url(url, base)
        except ValueError as exc:
            self.skip(url, f"not a page URL: {exc}")
            return False
        if normal in self._seen:
            return False
        if len(self.urls) >= MAX_URLS:
            self.skip(normal, f"over the limit of {MAX_URLS} URLs per run")
            return False
        self._seen.add(normal)
        self.urls.append(normal)
        return True

    def skip(self, url: str, reason: str) -> None:
        """Record `url` as left out, once; a URL skipped here is never queued later."""
        with suppress(ValueError):  # else recorded as given: the reason says why
            url = normalize_url(url)
        if url in self._seen:
            return
        self._seen.add(url)
        if len(self.skipped) < MAX_SKIPPED:
            self.skipped.append((url, reason))

    def is_seen(self, url: str) -> bool:
        return url in self._seen

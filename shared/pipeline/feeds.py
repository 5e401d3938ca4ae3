"""Feed parsing: RSS and Atom documents to the article links they announce."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser


class FeedError(ValueError):
    """The bytes are not an RSS or Atom feed; the message says what the parser found."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One feed item: the article link, its title, and when it was published, in UTC if known."""

    url: str
    title: str
    published: datetime | None = None


def parse_feed(data: bytes) -> tuple[FeedEntry, ...]:
    """Parse RSS 0.9x/1.0/2.0 or Atom bytes into entries, in document order.

    Entries without a link are dropped: discovery has nothing to fetch for them. The published
    time falls back to the updated time when a feed only gives that. A document with neither a
    recognised feed version nor any entries (HTML, plain text, broken XML) raises ``FeedError``;
    a well-formed feed that merely has no items gives an empty tuple.
    """
    # feedparser treats a str as a URL or path to open; bytes are always parsed in memory.
    result: Mapping[str, Any] = feedparser.parse(bytes(data))
    entries: list[Mapping[str, Any]] = list(result.get("entries", []))
    if not entries and not result.get("version"):
        reason = result.get("bozo_exception")
        detail = f": {reason}" if reason else ""
        raise FeedError(f"document is not an RSS or Atom feed{detail}")
    return tuple(entry for raw in entries if (entry := _to_entry(raw)) is not None)


def _to_entry(raw: Mapping[str, Any]) -> FeedEntry | None:
    url = str(raw.get("link") or "").strip()
    if not url:
        return None
    title = " ".join(str(raw.get("title") or "").split())
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")
    return FeedEntry(url=url, title=title, published=_to_datetime(stamp))


def _to_datetime(stamp: time.struct_time | None) -> datetime | None:
    """feedparser normalises every date it understands to a UTC ``struct_time``."""
    if stamp is None:
        return None
    return datetime(*stamp[:6], tzinfo=UTC)

"""Unit tests for RSS and Atom feed parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.pipeline.feeds import FeedEntry, FeedError, parse_feed

DEMO = Path(__file__).parents[1] / "sites" / "demo"


def _labels() -> dict[str, Any]:
    labels: dict[str, Any] = json.loads((DEMO / "labels.json").read_text(encoding="utf-8"))
    return labels


def test_parse_feed_reads_rss_items_in_order() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Demo</title><link>http://demo.quarry.test/</link>
  <item><title>First  story</title><link>http://demo.quarry.test/a.html</link>
    <pubDate>Wed, 18 Nov 2026 19:45:00 +0100</pubDate></item>
  <item><title>No date</title><link> http://demo.quarry.test/b.html </link></item>
  <item><title>No link, dropped</title><description>Just text.</description></item>
</channel></rss>"""

    assert parse_feed(data) == (
        FeedEntry(
            url="http://demo.quarry.test/a.html",
            title="First story",
            published=datetime(2026, 11, 18, 18, 45, tzinfo=UTC),
        ),
        FeedEntry(url="http://demo.quarry.test/b.html", title="No date", published=None),
    )


def test_parse_feed_reads_atom_alternate_link_and_updated_date() -> None:
    data = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Demo</title><id>urn:demo</id><updated>2026-11-01T00:00:00Z</updated>
  <entry>
    <title>Atom story</title><id>urn:demo:1</id>
    <link rel="alternate" href="http://demo.quarry.test/atom.html"/>
    <updated>2026-10-01T10:00:00+02:00</updated>
  </entry>
</feed>"""

    assert parse_feed(data) == (
        FeedEntry(
            url="http://demo.quarry.test/atom.html",
            title="Atom story",
            published=datetime(2026, 10, 1, 8, 0, tzinfo=UTC),
        ),
    )


def test_parse_feed_returns_empty_tuple_for_feed_without_items() -> None:
    data = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'

    assert parse_feed(data) == ()


@pytest.mark.parametrize(
    "data",
    [
        b"<html><head><title>Home</title></head><body><p>Welcome</p></body></html>",
        b"this is not xml {",
        b"",
    ],
)
def test_parse_feed_rejects_documents_that_are_not_feeds(data: bytes) -> None:
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        parse_feed(data)


def test_feed_error_is_a_value_error() -> None:
    assert issubclass(FeedError, ValueError)


def test_parse_feed_demo_site_matches_labels() -> None:
    labels = _labels()
    entries = parse_feed((DEMO / "feed.xml").read_bytes())

    in_feed = {labels["base"] + p["path"]: p for p in labels["pages"] if p["in_feed"]}
    assert {entry.url for entry in entries} == set(in_feed)
    assert len(entries) == len(in_feed)
    for entry in entries:
        assert entry.title == in_feed[entry.url]["title"]
        published = datetime.fromisoformat(in_feed[entry.url]["published"])
        assert entry.published == published.astimezone(UTC)


def test_parse_feed_demo_site_has_feed_only_articles() -> None:
    labels = _labels()
    entries = parse_feed((DEMO / "feed.xml").read_bytes())

    feed_only = {
        labels["base"] + p["path"] for p in labels["pages"] if p["in_feed"] and not p["in_sitemap"]
    }
    assert len(feed_only) >= 2
    assert feed_only <= {entry.url for entry in entries}

"""Unit tests for sitemap parsing, including the refusals that keep it safe."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.pipeline.sitemap import (
    MAX_SITEMAP_BYTES,
    Sitemap,
    SitemapError,
    SitemapUrl,
    parse_lastmod,
    parse_sitemap,
)

DEMO = Path(__file__).parents[1] / "sites" / "demo"

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc> http://demo.quarry.test/a.html </loc><lastmod>2026-10-02T09:30:00+02:00</lastmod></url>
  <url><loc>http://demo.quarry.test/b.html</loc></url>
</urlset>
"""


def _labels() -> dict[str, Any]:
    labels: dict[str, Any] = json.loads((DEMO / "labels.json").read_text(encoding="utf-8"))
    return labels


def test_parse_sitemap_reads_urlset_with_utc_lastmod() -> None:
    assert parse_sitemap(URLSET) == Sitemap(
        urls=(
            SitemapUrl("http://demo.quarry.test/a.html", datetime(2026, 10, 2, 7, 30, tzinfo=UTC)),
            SitemapUrl("http://demo.quarry.test/b.html", None),
        ),
    )


def test_parse_sitemap_reads_document_without_namespace() -> None:
    data = b"<urlset><url><loc>http://demo.quarry.test/a</loc><lastmod>2026-11</lastmod></url></urlset>"

    assert parse_sitemap(data).urls == (
        SitemapUrl("http://demo.quarry.test/a", datetime(2026, 11, 1, tzinfo=UTC)),
    )


def test_parse_sitemap_reads_gzip_compressed_input() -> None:
    assert parse_sitemap(gzip.compress(URLSET)) == parse_sitemap(URLSET)


def test_parse_sitemap_reads_sitemap_index() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>http://demo.quarry.test/sitemap-news.xml</loc><lastmod>2026-11-01</lastmod></sitemap>
  <sitemap><loc>http://demo.quarry.test/sitemap-2026.xml.gz</loc></sitemap>
  <sitemap><lastmod>2026-11-01</lastmod></sitemap>
</sitemapindex>
"""

    assert parse_sitemap(data) == Sitemap(
        sitemaps=(
            "http://demo.quarry.test/sitemap-news.xml",
            "http://demo.quarry.test/sitemap-2026.xml.gz",
        ),
    )


def test_parse_sitemap_ignores_extension_elements_and_entries_without_loc() -> None:
    data = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
      <url><loc>http://demo.quarry.test/g.html</loc>
        <image:image><image:loc>http://demo.quarry.test/g.jpg</image:loc></image:image></url>
      <url><lastmod>2026-10-01</lastmod></url>
      <url><loc>   </loc></url>
    </urlset>"""

    assert parse_sitemap(data).urls == (SitemapUrl("http://demo.quarry.test/g.html"),)


def test_parse_sitemap_refuses_billion_laughs() -> None:
    data = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<urlset><url><loc>&lol3;</loc></url></urlset>"""

    with pytest.raises(SitemapError, match="DOCTYPE or ENTITY declaration"):
        parse_sitemap(data)


def test_parse_sitemap_refuses_declarations_hidden_in_utf16_and_gzip() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "e">]><urlset/>'

    with pytest.raises(SitemapError, match="DOCTYPE or ENTITY"):
        parse_sitemap(text.encode("utf-16"))
    with pytest.raises(SitemapError, match="DOCTYPE or ENTITY"):
        parse_sitemap(gzip.compress(text.encode("utf-8")))


def test_parse_sitemap_refuses_oversized_input() -> None:
    data = b"<urlset>" + b" " * MAX_SITEMAP_BYTES + b"</urlset>"

    with pytest.raises(SitemapError, match="50 MiB"):
        parse_sitemap(data)


def test_parse_sitemap_refuses_gzip_bomb() -> None:
    data = gzip.compress(b"<urlset>" + b" " * (MAX_SITEMAP_BYTES + 1) + b"</urlset>")

    with pytest.raises(SitemapError, match=r"exceeds \d+ bytes \(50 MiB\)"):
        parse_sitemap(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<urlset><url><loc>http://a/</url></urlset>", "not well-formed XML: mismatched tag"),
        (b"", "not well-formed XML: no element found"),
        (b"<html><body>Not found</body></html>", "root element is <html>"),
        (b"\x1f\x8bnot really gzip", "cannot be inflated"),
        (gzip.compress(URLSET)[:-12], "truncated"),
    ],
)
def test_parse_sitemap_names_the_problem_in_bad_input(data: bytes, message: str) -> None:
    with pytest.raises(SitemapError, match=message):
        parse_sitemap(data)


def test_sitemap_error_is_a_value_error() -> None:
    assert issubclass(SitemapError, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-05", datetime(2026, 10, 5, tzinfo=UTC)),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-10-05T16:45Z", datetime(2026, 10, 5, 16, 45, tzinfo=UTC)),
        ("2026-10-05T16:45:30.5-05:00", datetime(2026, 10, 5, 21, 45, 30, 500000, tzinfo=UTC)),
        ("2026-10-05T16:45:00", datetime(2026, 10, 5, 16, 45, tzinfo=UTC)),
        ("2026-13", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_lastmod_reads_w3c_datetimes_as_utc(
    value: str | None, expected: datetime | None
) -> None:
    assert parse_lastmod(value) == expected


def test_parse_sitemap_demo_site_matches_labels() -> None:
    labels = _labels()
    sitemap = parse_sitemap((DEMO / "sitemap.xml").read_bytes())

    expected = {labels["base"] + page["path"] for page in labels["pages"] if page["in_sitemap"]}
    locs = [url.loc for url in sitemap.urls]
    assert len(locs) == len(expected) + len(labels["refused"])
    assert set(locs) == expected | set(labels["refused"])
    assert sitemap.sitemaps == ()
    assert all(url.lastmod is not None for url in sitemap.urls if url.loc in expected)
    assert all(url.lastmod.tzinfo is UTC for url in sitemap.urls if url.lastmod is not None)

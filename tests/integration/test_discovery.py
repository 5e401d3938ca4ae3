"""Discovery against a small blog served from a temp dir on 127.0.0.1: sitemap index with a
gzip child and lastmod dates, Atom and RSS 1.0 feeds, robots.txt, and a link crawl."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shared.config import Settings
from shared.discovery import CrawlOptions, Discovery, discover, guess_kind
from shared.fetch import HttpFetcher
from tests.conftest import ROOT


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def page(title: str, body: str, head: str = "") -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"{head}</head><body><h1>{title}</h1>{body}</body></html>"
    )


def write_site(root: Path, base: str) -> None:
    files = {
        "robots.txt": "User-agent: *\nDisallow: /blog/private/\n\n"
        f"Sitemap: {base}/sitemap_index.xml\n",
        "index.html": page(
            "Harbour Times",
            '<a href="/blog/">Blog</a>',
            '<link rel="alternate" type="application/atom+xml" href="/atom.xml">'
            '<link rel="alternate" type="application/rss+xml" href="/rss10.xml">',
        ),
        "blog/index.html": page(
            "Blog",
            '<ul><li><a href="2026/">2026</a></li><li><a href="about.html">About</a></li>'
            '<li><a href="http://elsewhere.example/partner">Partner</a></li>'
            '<li><a href="/shop/cart">Cart</a></li><li><a href="tag/drafts/">Drafts</a></li>'
            '<li><a href="private/notes.html">Notes</a></li>'
            '<li><a href="login.html" rel="nofollow">Sign in</a></li>'
            '<li><a href="mailto:desk@harbour.example">Mail us</a></li></ul>',
        ),
        "blog/about.html": page(
            "About",
            '<a href="secret-path.html">never followed</a>',
            '<meta name="robots" content="nofollow">',
        ),
        "blog/2026/index.html": page(
            "2026", '<a href="harbour.html#comments">Harbour</a> <a href="ferry.html">Ferry</a>'
        ),
        "blog/2026/harbour.html": page(
            "Harbour bridge reopens",
            '<a href="deep/one.html">More</a> <a href="/blog/">Blog</a>',
            '<link rel="canonical" href="/blog/2026/harbour.html?utm_source=feed">',
        ),
        "blog/2026/ferry.html": page(
            "Ferry timetable",
            "<p>Summer sailings.</p>",
            '<link rel="canonical" href="ferry-timetable.html">',
        ),
        "blog/2026/deep/one.html": page("Deep", ""),
        "blog/tag/drafts/index.html": page("Drafts", ""),
        "blog/private/notes.html": page("Notes", ""),
        "blog/login.html": page("Sign in", ""),
        "sitemap_index.xml": sitemap_index(
            base, ["sitemaps/news.xml.gz", "sitemaps/pages.xml", "sitemaps/missing.xml"]
        ),
        "sitemaps/pages.xml": sitemap_index(base, ["sitemaps/pages-1.xml"]),
        "sitemaps/pages-1.xml": urlset([(f"{base}/blog/about.html", "2026-09-01")]),
        "atom.xml": f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Harbour Times</title><id>{base}/</id><updated>2026-11-21T08:00:00Z</updated>
  <entry><title>Harbour bridge reopens</title><id>{base}/blog/2026/harbour.html</id>
    <link href="{base}/blog/2026/harbour.html"/><updated>2026-11-20T08:00:00Z</updated></entry>
  <entry><title>Regatta results</title><id>{base}/blog/2026/regatta.html</id>
    <link rel="alternate" href="{base}/blog/2026/regatta.html"/>
    <updated>2026-11-21T08:00:00Z</updated></entry>
</feed>""",
        "rss10.xml": f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="{base}/rss10.xml"><title>Harbour Times</title><link>{base}/</link>
    <description>News</description>
    <items><rdf:Seq><rdf:li resource="{base}/blog/2026/ferry.html"/>
      <rdf:li resource="{base}/blog/2026/lighthouse.html"/></rdf:Seq></items></channel>
  <item rdf:about="{base}/blog/2026/ferry.html"><title>Ferry timetable</title>
    <link>{base}/blog/2026/ferry.html</link></item>
  <item rdf:about="{base}/blog/2026/lighthouse.html"><title>Lighthouse open day</title>
    <link>{base}/blog/2026/lighthouse.html</link></item>
</rdf:RDF>""",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    news = urlset(
        [
            (f"{base}/blog/2026/harbour.html", "2026-11-20T08:00:00+00:00"),
            (f"{base}/blog/2026/ferry.html", "2026-10-01"),
            (f"{base}/blog/2026/election.html", None),
        ]
    )
    (root / "sitemaps/news.xml.gz").write_bytes(gzip.compress(news.encode()))


def urlset(entries: list[tuple[str, str | None]]) -> str:
    rows = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</url>"
        for loc, mod in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'
    )


def sitemap_index(base: str, paths: list[str]) -> str:
    rows = "".join(f"<sitemap><loc>{base}/{p}</loc></sitemap>" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</sitemapindex>'
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    write_site(root, base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fetcher(settings: Settings, site: str) -> HttpFetcher:
    host = site.split("//", 1)[1]
    return HttpFetcher(settings.model_copy(update={"fetch_allow_hosts": (host,)}))


async def test_discovery_site_reads_sitemap_index_gzip_and_feeds(
    fetcher: HttpFetcher, site: str
) -> None:
    report = await discover(fetcher, "site", site + "/", [])
    blog = f"{site}/blog/2026"
    assert report == Discovery(
        urls=[
            f"{blog}/harbour.html",
            f"{blog}/ferry.html",
            f"{blog}/election.html",
            f"{site}/blog/about.html",
            f"{blog}/regatta.html",
            f"{blog}/lighthouse.html",
        ],
        skipped=[
            (
                f"{site}/sitemaps/missing.xml",
                f"sitemap not read: sitemap {site}/sitemaps/missing.xml answered HTTP 404",
            )
        ],
    )


async def test_discovery_lastmod_filter_skips_unchanged_entries(
    fetcher: HttpFetcher, site: str
) -> None:
    since = datetime(2026, 11, 1, tzinfo=UTC)
    report = await discover(fetcher, "site", site + "/", [], since=since)
    blog = f"{site}/blog/2026"
    assert report.urls == [
        f"{blog}/harbour.html",
        f"{blog}/election.html",
        f"{blog}/regatta.html",
        f"{blog}/lighthouse.html",  # the feed does not bring the unchanged ferry page back
    ]
    unchanged = "unchanged since 2026-11-01 00:00 UTC"
    assert report.skipped == [
        (f"{blog}/ferry.html", f"{unchanged} (lastmod 2026-10-01)"),
        (
            f"{site}/sitemaps/missing.xml",
            f"sitemap not read: sitemap {site}/sitemaps/missing.xml answered HTTP 404",
        ),
        (f"{site}/blog/about.html", f"{unchanged} (lastmod 2026-09-01)"),
    ]


async def test_discovery_crawl_scope_robots_depth_canonical(
    fetcher: HttpFetcher, site: str
) -> None:
    options = CrawlOptions(exclude=("/tag/",))
    report = await discover(fetcher, "crawl", site + "/blog/", [], options=options)
    blog = f"{site}/blog"
    assert report.urls == [
        f"{blog}/",
        f"{blog}/2026/",
        f"{blog}/about.html",
        f"{blog}/2026/harbour.html",
        f"{blog}/2026/ferry-timetable.html",  # the ferry page's canonical is its identity
    ]
    assert report.skipped == [
        ("http://elsewhere.example/partner", "other host"),
        (f"{site}/shop/cart", "outside path prefix"),
        (f"{blog}/tag/drafts/", "excluded by pattern '/tag/'"),
        (f"{blog}/private/notes.html", "disallowed by robots.txt"),
        (f"{blog}/2026/deep/one.html", "deeper than max_depth 2"),
        (f"{blog}/login.html", "rel=nofollow"),
    ]


async def test_discovery_crawl_stops_at_max_pages(fetcher: HttpFetcher, site: str) -> None:
    options = CrawlOptions(max_pages=2, exclude=("/tag/",))
    report = await discover(fetcher, "crawl", site + "/blog/", [], options=options)
    assert report.urls == [f"{site}/blog/", f"{site}/blog/2026/"]
    assert (f"{site}/blog/about.html", "not fetched: max_pages 2 reached") in report.skipped


async def test_discovery_crawl_unreadable_start_is_skipped_not_fatal(
    fetcher: HttpFetcher, site: str
) -> None:
    report = await discover(fetcher, "crawl", site + "/gone/", [])
    assert report == Discovery(skipped=[(f"{site}/gone/", "answered HTTP 404")])


async def test_discovery_guess_kind_by_content(fetcher: HttpFetcher, site: str) -> None:
    assert await guess_kind(fetcher, f"{site}/atom.xml") == "feed"
    assert await guess_kind(fetcher, f"{site}/rss10.xml") == "feed"
    assert await guess_kind(fetcher, f"{site}/sitemap_index.xml") == "sitemap"
    assert await guess_kind(fetcher, f"{site}/sitemaps/news.xml.gz") == "sitemap"
    assert await guess_kind(fetcher, f"{site}/") == "site"


def quarry(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")}
    environ |= {
        "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/cli.db",
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "discover", *args],
        cwd=tmp,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_discovery_cli_prints_queue_and_skipped(site: str, tmp_path: Path) -> None:
    crawl = ["--kind", "crawl", "--exclude", "/tag/", "--limit", "3"]
    result = quarry([f"{site}/blog/", *crawl, "--allow-host", site.split("//", 1)[1]], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "crawl: 5 URLs to queue",
        f"    1  {site}/blog/",
        f"    2  {site}/blog/2026/",
        f"    3  {site}/blog/about.html",
        "       … and 2 more",
        "skipped 6:",
        "       http://elsewhere.example/partner  (other host)",
        f"       {site}/shop/cart  (outside path prefix)",
        f"       {site}/blog/tag/drafts/  (excluded by pattern '/tag/')",
    ]


def test_discovery_cli_auto_detects_a_feed(site: str, tmp_path: Path) -> None:
    result = quarry([f"{site}/atom.xml", "--allow-host", site.split("//", 1)[1]], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "feed: 2 URLs to queue",
        f"    1  {site}/blog/2026/harbour.html",
        f"    2  {site}/blog/2026/regatta.html",
        "skipped 0:",
    ]


def test_discovery_cli_refuses_loopback_without_allow_host(site: str, tmp_path: Path) -> None:
    result = quarry([f"{site}/atom.xml", "--kind", "feed"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: refused")
    assert "127.0.0.1" in result.stderr


def test_discovery_cli_bad_pattern_says_what_is_wrong(site: str, tmp_path: Path) -> None:
    result = quarry([f"{site}/blog/", "--kind", "crawl", "--include", "(oops"], tmp_path)
    assert result.returncode == 2
    assert "pattern '(oops' is not a valid regular expression" in result.stderr

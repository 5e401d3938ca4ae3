"""Links of a page and crawl scope, on HTML shaped like real article and index pages."""

from __future__ import annotations

import threading

import pytest

from shared.pipeline.links import Links, Scope, directory_of, extract_links

ARTICLE = """<!doctype html>
<html lang="en"><head>
  <meta charset="utf-8">
  <title>Harbour bridge reopens</title>
  <link rel="canonical" href="/news/harbour-bridge-reopens?utm_source=rss">
  <link rel="alternate" type="application/rss+xml" href="/feed.xml">
</head><body>
  <nav><a href="/">Home</a> <a href="/news/">News</a> <a href="#top">Top</a></nav>
  <article>
    <p>Read the <a href="report.pdf#page=2">full report</a>, the
    <a href="https://council.example.org/minutes">council minutes</a> or
    <a href="/news/ferry-timetable?b=2&amp;a=1#table">the ferry timetable</a>.</p>
    <p><a href="/login?next=/news/" rel="nofollow">Sign in</a>
    <a href="mailto:desk@example.com">Mail the desk</a>
    <a href="javascript:void(0)">Share</a>
    <a href="data:text/plain,hi">data</a>
    <a href="/news/">News again</a></p>
  </article>
</body></html>"""


def test_links_article_anchors_resolved_and_filtered() -> None:
    # "#top" points at the page itself: no link to follow
    links = extract_links(ARTICLE, "https://www.example.com/news/harbour-bridge-reopens")
    assert links == Links(
        urls=(
            "https://www.example.com/",
            "https://www.example.com/news/",
            "https://www.example.com/news/report.pdf",
            "https://council.example.org/minutes",
            "https://www.example.com/news/ferry-timetable?a=1&b=2",
        ),
        nofollow=("https://www.example.com/login?next=/news/",),
        canonical="https://www.example.com/news/harbour-bridge-reopens",
    )


def test_links_nofollow_followed_when_asked() -> None:
    links = extract_links(ARTICLE, "https://www.example.com/news/x", follow_nofollow=True)
    assert "https://www.example.com/login?next=/news/" in links.urls
    assert links.nofollow == ()


def test_links_base_href_resolves_relative_anchors() -> None:
    html = (
        '<html><head><base href="https://cdn.example.com/archive/2026/"></head>'
        '<body><a href="march.html">March</a><a href="../2025/">2025</a>'
        '<a href="/about">About</a></body></html>'
    )
    links = extract_links(html, "https://www.example.com/archive")
    assert links.urls == (
        "https://cdn.example.com/archive/2026/march.html",
        "https://cdn.example.com/archive/2025/",
        "https://cdn.example.com/about",
    )


def test_links_meta_robots_nofollow_gives_no_links_but_keeps_canonical() -> None:
    html = (
        '<head><meta name="Robots" content="noindex, NOFOLLOW">'
        '<link rel="canonical" href="https://example.com/a"></head>'
        '<body><a href="/b">b</a></body>'
    )
    assert extract_links(html, "https://example.com/a?ref=x") == Links(
        canonical="https://example.com/a", page_nofollow=True
    )


def test_links_meta_robots_none_is_nofollow() -> None:
    html = '<meta name="robots" content="none"><a href="/b">b</a>'
    assert extract_links(html, "https://example.com/").page_nofollow


def test_links_broken_markup_still_yields_anchors() -> None:
    html = '<p><a href="/one">one<p><a href=/two>two</a><a href="http://[bad">x</a>'
    assert extract_links(html, "http://example.com/").urls == (
        "http://example.com/one",
        "http://example.com/two",
    )


def test_scope_reasons() -> None:
    scope = Scope(
        frozenset({"example.com", "127.0.0.1:8080"}),
        "/docs/",
        include=(r"/docs/(guide|api)/",),
        exclude=(r"/docs/api/internal/", r"\.pdf$"),
    )
    assert scope.in_scope("http://example.com/docs/guide/start") is None
    assert scope.in_scope("http://127.0.0.1:8080/docs/api/fetch") is None
    assert scope.in_scope("http://other.example.com/docs/guide/") == "other host"
    assert scope.in_scope("http://127.0.0.1:9090/docs/guide/") == "other host"
    assert scope.in_scope("http://example.com/blog/post") == "outside path prefix"
    assert (
        scope.in_scope("http://example.com/docs/api/internal/keys")
        == "excluded by pattern '/docs/api/internal/'"
    )
    assert (
        scope.in_scope("http://example.com/docs/guide/all.pdf") == r"excluded by pattern '\\.pdf$'"
    )
    assert scope.in_scope("http://example.com/docs/changelog") == "not matched by include patterns"


def test_scope_around_start_url() -> None:
    scope = Scope.around("HTTP://Example.COM:80/blog/2026/index.html")
    assert scope == Scope(frozenset({"example.com"}), "/blog/2026/")
    assert Scope.around("https://example.com").path_prefix == "/"
    assert Scope.around("https://example.com/shop", path_prefix="/").path_prefix == "/"
    assert directory_of("https://example.com/a/b") == "/a/"


def test_scope_bad_pattern_is_refused_with_the_pattern_named() -> None:
    with pytest.raises(ValueError, match=r"pattern '\(unclosed' is not a valid regular"):
        Scope(frozenset({"example.com"}), exclude=("(unclosed",))


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "invalid escape sequence"),  # a backreference
        (r"/docs/(?=api)", "invalid perl operator"),  # lookahead
        (r"(?<!x)\.pdf$", "invalid perl operator"),  # lookbehind
    ],
)
def test_scope_patterns_without_linear_matching_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match="linear-time") as info:
        Scope(frozenset({"example.com"}), include=(pattern,))
    assert reason in str(info.value)
    assert repr(pattern) in str(info.value)


def test_scope_patterns_match_in_linear_time() -> None:
    """`(\\w+)*\\.pdf$` backtracks exponentially in Python's engine (1.75 s at 24 characters,
    ×6 per two more); RE2 answers at once however long the path."""
    scope = Scope(frozenset({"example.com"}), exclude=(r"(\w+)*\.pdf$",))
    url = "http://example.com/" + "a" * 60 + ".pdx"
    answers: list[str | None] = []
    worker = threading.Thread(target=lambda: answers.append(scope.in_scope(url)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert answers == [None], "the exclude pattern did not finish matching within 60 s"
    assert (
        scope.in_scope("http://example.com/report.pdf") == r"excluded by pattern '(\\w+)*\\.pdf$'"
    )

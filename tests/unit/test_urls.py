"""Unit tests for URL normalisation."""

from __future__ import annotations

import pytest

from shared.pipeline.urls import is_http_url, normalize_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Demo.Quarry.TEST/Articles/A.html", "http://demo.quarry.test/Articles/A.html"),
        ("http://demo.quarry.test:80/a", "http://demo.quarry.test/a"),
        ("https://demo.quarry.test:443/a", "https://demo.quarry.test/a"),
        ("http://demo.quarry.test:8080/a", "http://demo.quarry.test:8080/a"),
        ("https://demo.quarry.test:80/a", "https://demo.quarry.test:80/a"),
        ("http://demo.quarry.test", "http://demo.quarry.test/"),
        ("http://demo.quarry.test?b=1", "http://demo.quarry.test/?b=1"),
        ("http://demo.quarry.test/a#section-2", "http://demo.quarry.test/a"),
        ("  http://demo.quarry.test/a \n", "http://demo.quarry.test/a"),
        ("http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"),
        ("http://User:Pw@Demo.Quarry.test/a", "http://User:Pw@demo.quarry.test/a"),
    ],
)
def test_normalize_url_canonicalises_scheme_host_port_and_fragment(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_normalize_url_removes_tracking_params_and_sorts_the_rest() -> None:
    url = (
        "http://demo.quarry.test/a?utm_source=news&z=1&UTM_Medium=x&gclid=g&a=2"
        "&fbclid=f&mc_cid=c&mc_eid=e&m=%2Fx"
    )

    assert normalize_url(url) == "http://demo.quarry.test/a?a=2&m=%2Fx&z=1"


def test_normalize_url_keeps_order_of_repeated_params() -> None:
    url = "http://demo.quarry.test/s?tag=b&q=x&tag=a"

    assert normalize_url(url) == "http://demo.quarry.test/s?q=x&tag=b&tag=a"


def test_normalize_url_drops_query_made_only_of_tracking_params() -> None:
    assert normalize_url("http://demo.quarry.test/a?utm_campaign=x&") == (
        "http://demo.quarry.test/a"
    )


def test_normalize_url_keeps_trailing_slash_as_given() -> None:
    assert normalize_url("http://demo.quarry.test/news/") == "http://demo.quarry.test/news/"
    assert normalize_url("http://demo.quarry.test/news") == "http://demo.quarry.test/news"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/articles/b.html", "http://demo.quarry.test/articles/b.html"),
        ("b.html#top", "http://demo.quarry.test/articles/b.html"),
        ("../feed.xml", "http://demo.quarry.test/feed.xml"),
        ("//Other.Example/x", "http://other.example/x"),
        ("https://elsewhere.test/", "https://elsewhere.test/"),
    ],
)
def test_normalize_url_resolves_relative_against_base(url: str, expected: str) -> None:
    assert normalize_url(url, base="http://demo.quarry.test/articles/a.html") == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty URL"),
        ("/articles/a.html", "relative"),
        ("mailto:desk@demo.quarry.test", "unsupported URL scheme 'mailto'"),
        ("javascript:alert(1)", "unsupported URL scheme 'javascript'"),
        ("ftp://demo.quarry.test/file", "unsupported URL scheme 'ftp'"),
        ("http:///no-host", "has no host"),
        ("http://demo.quarry.test:99999/a", "cannot parse URL"),
        ("http://demo.quarry.test:port/a", "cannot parse URL"),
    ],
)
def test_normalize_url_rejects_unusable_urls_with_clear_message(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_url(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://demo.quarry.test/a", True),
        ("HTTPS://demo.quarry.test", True),
        ("http://169.254.169.254/latest/meta-data/", True),
        ("/articles/a.html", False),
        ("mailto:desk@demo.quarry.test", False),
        ("http:///no-host", False),
        ("http://demo.quarry.test:99999/", False),
        ("", False),
    ],
)
def test_is_http_url_accepts_only_absolute_http_urls(url: str, expected: bool) -> None:
    assert is_http_url(url) is expected

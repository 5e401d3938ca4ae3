"""robots.txt: Google's documented examples, RFC 9309's cases, and hostile files."""

from __future__ import annotations

import time

import pytest

from shared.pipeline.robots import (
    MAX_BYTES,
    crawl_delay,
    is_allowed,
    matches,
    normalize,
    parse,
    path_of,
    policy_for_status,
    product_token,
    sitemaps,
)

UA = "QuarryBot/0.1 (+https://quarry.dev/bot)"


def allowed(rules: str, url: str, agent: str = UA) -> bool:
    return is_allowed(f"User-agent: *\n{rules}\n", agent, f"https://example.com{url}")


# Google's "URL matching based on path values" table: pattern, matching, non-matching paths.
PATH_TABLE = [
    ("/", ["/", "/index.html", "/a/b?c"], []),
    ("/*", ["/", "/index.html", "/a/b?c"], []),
    ("/$", ["/"], ["/index.html", "/?a=b"]),
    (
        "/fish",
        ["/fish", "/fish.html", "/fish/salmon.html", "/fishheads", "/fishheads/yummy.html",
         "/fish.php?id=anything"],
        ["/Fish.asp", "/catfish", "/?id=fish", "/desert/fish"],
    ),
    (
        "/fish*",
        ["/fish", "/fish.html", "/fish/salmon.html", "/fishheads", "/fishheads/yummy.html",
         "/fish.php?id=anything"],
        ["/Fish.asp", "/catfish", "/?id=fish", "/desert/fish"],
    ),
    (
        "/fish/",
        ["/fish/", "/fish/?id=anything", "/fish/salmon.htm"],
        ["/fish", "/fish.html", "/animals/fish/", "/Fish/Salmon.asp"],
    ),
    (
        "/*.php",
        ["/index.php", "/filename.php", "/folder/filename.php",
         "/folder/filename.php?parameters", "/folder/any.php.file.html", "/filename.php/"],
        ["/", "/windows.PHP"],
    ),
    (
        "/*.php$",
        ["/filename.php", "/folder/filename.php"],
        ["/filename.php?parameters", "/filename.php/", "/filename.php5", "/windows.PHP"],
    ),
    (
        "/fish*.php",
        ["/fish.php", "/fishheads/catfish.php?parameters"],
        ["/Fish.PHP"],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("pattern", "hits", "misses"), PATH_TABLE)
def test_robots_patterns_match_googles_path_table(
    pattern: str, hits: list[str], misses: list[str]
) -> None:
    assert {p: allowed(f"Disallow: {pattern}", p) for p in hits} == dict.fromkeys(hits, False)
    assert {p: allowed(f"Disallow: {pattern}", p) for p in misses} == dict.fromkeys(misses, True)


# Google's "order of precedence for rules" table.
PRECEDENCE = [
    ("Allow: /p\nDisallow: /", "/page", True),  # longer rule wins
    ("Allow: /folder\nDisallow: /folder", "/folder/page", True),  # tie: Allow wins
    ("Allow: /page\nDisallow: /*.htm", "/page.htm", False),  # longer wildcard rule wins
    ("Allow: /page\nDisallow: /*.ph", "/page.php5", True),  # equal length: Allow wins
    ("Allow: /$\nDisallow: /", "/", True),
    ("Allow: /$\nDisallow: /", "/page.htm", False),
    ("Disallow: /\nAllow: /p", "/page", True),  # order in the file does not matter
]


@pytest.mark.parametrize(("rules", "path", "expected"), PRECEDENCE)
def test_robots_longest_match_wins_and_allow_wins_ties(
    rules: str, path: str, expected: bool
) -> None:
    assert allowed(rules, path) is expected


def test_robots_empty_disallow_and_empty_file_allow_everything() -> None:
    assert allowed("Disallow:", "/anything") is True
    assert is_allowed("", UA, "https://example.com/x") is True
    assert is_allowed("# only a comment\n", UA, "https://example.com/x") is True


def test_robots_txt_itself_is_always_allowed() -> None:
    assert allowed("Disallow: /", "/robots.txt") is True
    assert allowed("Disallow: /", "/robots.txt?x") is False


GROUPS = """\
user-agent: googlebot-news
disallow: /fish
user-agent: *
disallow: /carrots
user-agent: googlebot-news
disallow: /shrimp

user-agent: QuarryBot
user-agent: otherbot
disallow: /quarry-only

user-agent: idlebot
disallow:
"""


def test_robots_records_for_one_agent_are_merged_and_star_is_only_a_fallback() -> None:
    news = "Googlebot-News"
    assert is_allowed(GROUPS, news, "/fish") is False
    assert is_allowed(GROUPS, news, "/shrimp") is False
    assert is_allowed(GROUPS, news, "/carrots") is True  # `*` does not add to a named group
    assert is_allowed(GROUPS, "Googlebot-Image/1.0", "/carrots") is False
    assert is_allowed(GROUPS, "Googlebot-Image/1.0", "/fish") is True


def test_robots_agent_lines_share_a_group_and_tokens_match_case_insensitively() -> None:
    assert is_allowed(GROUPS, UA, "/quarry-only/x") is False
    assert is_allowed(GROUPS, "QUARRYBOT", "/quarry-only/x") is False
    assert is_allowed(GROUPS, "otherbot/2", "/quarry-only") is False
    assert is_allowed(GROUPS, UA, "/carrots") is True
    # a named group with no rule that matches allows, rather than falling back to `*`
    assert is_allowed(GROUPS, "idlebot", "/carrots") is True


def test_robots_matches_the_product_token_not_a_prefix() -> None:
    text = "User-agent: Quarry\nDisallow: /\nUser-agent: *\nDisallow: /star\n"
    assert is_allowed(text, UA, "/page") is True
    assert is_allowed(text, UA, "/star") is False
    assert product_token(UA) == "QuarryBot"
    assert product_token("  Googlebot-News/2.1") == "Googlebot-News"


def test_robots_tolerates_bom_crlf_comments_typos_and_junk() -> None:
    text = (
        "\ufeffDisallow: /before-any-agent\r\n"
        "User-Agent: *   # everyone\r\n"
        "Dissallow: /typo\r\n"
        "Disallow /no-colon\r\n"
        "this line means nothing\r\n"
        "Noindex: /ignored\r\n"
        "\r\n"
        "DISALLOW: /upper # comment\r"
        "Allow: /upper/ok\n"
    )
    assert allowed_in(text, "/before-any-agent") is True
    assert allowed_in(text, "/typo") is False
    assert allowed_in(text, "/no-colon") is False
    assert allowed_in(text, "/ignored") is True
    assert allowed_in(text, "/upper/x") is False
    assert allowed_in(text, "/upper/ok/x") is True


def allowed_in(text: str, path: str) -> bool:
    return is_allowed(text, UA, "http://example.com" + path)


# RFC 9309 §2.2.2's percent-encoding table, and the brief's `<` case.
ENCODING = [
    ("/foo/bar?baz=quz", "/foo/bar?baz=quz"),
    ("/foo/bar/\u30c4", "/foo/bar/%E3%83%84"),
    ("/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84"),
    ("/foo/bar/%e3%83%84", "/foo/bar/%E3%83%84"),
    ("/foo/bar/%62%61%7A", "/foo/bar/baz"),
    ("/foo/bar/baz", "/foo/bar/%62%61%7A"),
    ("/a<b", "/a%3Cb"),
    ("/a%3cb", "/a<b"),
    ("/a b", "/a%20b"),
]


@pytest.mark.parametrize(("pattern", "path"), ENCODING)
def test_robots_compares_percent_encoded_forms(pattern: str, path: str) -> None:
    assert allowed(f"Disallow: {pattern}$", path) is False


def test_robots_keeps_encoded_reserved_characters_distinct() -> None:
    assert allowed("Disallow: /a%2Fb", "/a/b") is True
    assert allowed("Disallow: /a%2Fb", "/a%2fb") is False
    assert normalize("/%7Euser/%41") == "/~user/A"


def test_robots_dollar_is_literal_unless_last_and_urls_are_cut_to_path_and_query() -> None:
    assert allowed("Disallow: /a$b", "/a$b/c") is False
    assert allowed("Disallow: /*?", "/page?x=1") is False
    assert allowed("Disallow: /*?", "/page") is True
    assert path_of("https://example.com") == "/"
    assert path_of("https://example.com?q=1") == "/?q=1"
    assert path_of("https://example.com/a;p?q#frag") == "/a;p?q"
    assert path_of("/x#y") == "/x"


def test_robots_wildcards_cannot_blow_up() -> None:
    pattern = "/" + "*a" * 200 + "b"
    started = time.perf_counter()
    assert matches("/" + "a" * 2000, pattern) is False
    assert time.perf_counter() - started < 1.0


def test_robots_reads_only_the_first_500_kib() -> None:
    head = "User-agent: *\nDisallow: /early\n"
    filler = "# padding\n" * (MAX_BYTES // 10)
    text = head + filler + "Disallow: /late\n"
    assert allowed_in(text, "/early") is False
    assert allowed_in(text, "/late") is True
    cut = head + "#" * (MAX_BYTES - len(head) - 5) + "\nDisallow: /partial-rule-cut"
    assert parse(cut).groups[0].rules == parse(head).groups[0].rules


def test_robots_allow_index_html_also_allows_its_directory() -> None:
    assert allowed("Disallow: /\nAllow: /docs/index.html", "/docs/") is True
    assert allowed("Disallow: /\nAllow: /docs/index.html", "/docs/other") is False


def test_crawl_delay_comes_from_the_crawlers_group() -> None:
    text = (
        "User-agent: *\nCrawl-delay: 10\nDisallow: /x\n\n"
        "User-agent: QuarryBot\nCrawl-delay: 2.5\nCrawl-delay: 9\n\n"
        "User-agent: slowbot\nCrawl-delay: soon\n"
    )
    assert crawl_delay(text, UA) == 2.5
    assert crawl_delay(text, "AnyBot") == 10.0
    assert crawl_delay(text, "slowbot") is None
    # Google groups these two together; each delay still belongs to the agent above it
    pair = "User-agent: bingbot\nCrawl-delay: 5\n\nUser-agent: yandex\nCrawl-delay: 2\n"
    assert (crawl_delay(pair, "bingbot"), crawl_delay(pair, "Yandex/3")) == (5.0, 2.0)
    shared = "User-agent: a\nUser-agent: b\nCrawl-delay: 3\nDisallow: /x\n"
    assert (crawl_delay(shared, "a"), crawl_delay(shared, "b"), crawl_delay(shared, "c")) == (
        3.0,
        3.0,
        None,
    )
    assert crawl_delay("User-agent: *\nDisallow: /\n", UA) is None
    assert crawl_delay("User-agent: *\nCrawl-delay: -1\n", UA) is None


def test_sitemaps_are_listed_whatever_group_they_sit_in() -> None:
    text = (
        "Sitemap: https://example.com/a.xml\n"
        "User-agent: *\nDisallow: /x\n"
        "sitemap:https://example.com/b.xml.gz # gz\n"
        "Site-map: https://example.com/c.xml\n"
        "Sitemap:\n"
    )
    assert sitemaps(text) == [
        "https://example.com/a.xml",
        "https://example.com/b.xml.gz",
        "https://example.com/c.xml",
    ]


@pytest.mark.parametrize(
    ("status", "policy"),
    [
        (200, "parse"),
        (204, "parse"),
        (301, "allow_all"),
        (401, "allow_all"),
        (403, "allow_all"),
        (404, "allow_all"),
        (410, "allow_all"),
        (429, "deny_all"),
        (500, "deny_all"),
        (503, "deny_all"),
        (None, "deny_all"),
    ],
)
def test_policy_for_status_follows_rfc_9309(status: int | None, policy: str) -> None:
    assert policy_for_status(status) == policy

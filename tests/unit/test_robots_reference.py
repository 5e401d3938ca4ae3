"""robots.txt against the two behaviours of Google's reference parser that RFC 9309 describes,
with cases written for Quarry: product tokens from full user-agent strings, and paths that
match rules written percent-encoded or not (any hex case)."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.pipeline.robots import is_allowed, product_token

QUARRY_UA = Settings.model_fields["user_agent"].default  # what the fetcher sends
ARCHIVE = """\
# The Quarry Gazette's robots.txt, as a newspaper might write it.
User-agent: QuarryBot/0.1 (+https://quarry.dev/bot)
Disallow: /drafts/
Allow: /drafts/published-

User-agent: Mozilla/5.0 (compatible; OtherBot/2.0)
Disallow: /

User-agent: *
Disallow: /archive/
"""


@pytest.mark.parametrize(
    ("agent", "token"),
    [
        (QUARRY_UA, "QuarryBot"),
        ("QuarryBot", "QuarryBot"),
        ("QuarryBot/0.1", "QuarryBot"),
        ("QuarryBot (+https://quarry.dev/bot)", "QuarryBot"),
        ("  quarry-bot_v/2", "quarry-bot_v"),
        ("Mozilla/5.0 (compatible; OtherBot/2.0)", "Mozilla"),
    ],
)
def test_robots_product_token_is_the_part_before_the_first_space_or_slash(
    agent: str, token: str
) -> None:
    assert product_token(agent) == token


@pytest.mark.parametrize(
    "crawler", [QUARRY_UA, "QuarryBot", "quarrybot/9.9", "QUARRYBOT (+mailto:ops@example.org)"]
)
def test_robots_full_product_strings_match_on_the_token_in_either_place(crawler: str) -> None:
    # The group is named by a full product string and the crawler gives one (or only the
    # token, in any case): both sides are reduced to `quarrybot`, so its group applies...
    assert is_allowed(ARCHIVE, crawler, "https://gazette.example/drafts/x") is False
    assert is_allowed(ARCHIVE, crawler, "https://gazette.example/drafts/published-1") is True
    # ... and `*` does not: a named group replaces it rather than adding to it.
    assert is_allowed(ARCHIVE, crawler, "https://gazette.example/archive/2026") is True


def test_robots_a_product_string_names_its_first_token_only() -> None:
    # `Mozilla/5.0 (compatible; OtherBot/2.0)` is the token `mozilla`, not `otherbot`.
    assert is_allowed(ARCHIVE, "OtherBot/2.0", "https://gazette.example/x") is True
    assert is_allowed(ARCHIVE, "OtherBot/2.0", "https://gazette.example/archive/") is False
    assert is_allowed(ARCHIVE, "Mozilla/5.0", "https://gazette.example/x") is False


# The same path in each form a site or a link may write it: raw UTF-8, upper- and lower-case
# percent-encoding, and a mix of the two within one path.
KATAKANA = ["/leitartikel/ツ", "/leitartikel/%E3%83%84", "/leitartikel/%e3%83%84"]
UMLAUTS = [
    "/über/grüße",
    "/%C3%BCber/gr%C3%BC%C3%9Fe",
    "/%c3%bcber/gr%c3%bc%c3%9fe",
    "/über/gr%c3%bc%C3%9Fe",
]


@pytest.mark.parametrize("rule", KATAKANA)
@pytest.mark.parametrize("path", KATAKANA)
def test_robots_non_ascii_and_percent_encoded_paths_are_one_path(rule: str, path: str) -> None:
    robots = f"User-agent: *\nDisallow: {rule}\n"
    assert is_allowed(robots, QUARRY_UA, f"https://gazette.example{path}") is False
    assert is_allowed(robots, QUARRY_UA, f"https://gazette.example{path}x") is False  # a prefix
    assert is_allowed(robots, QUARRY_UA, "https://gazette.example/leitartikel/") is True


@pytest.mark.parametrize("rule", UMLAUTS)
@pytest.mark.parametrize("path", UMLAUTS)
def test_robots_encoded_forms_match_with_wildcards_and_anchors(rule: str, path: str) -> None:
    robots = f"User-agent: QuarryBot\nAllow: {rule}$\nDisallow: /*gr\n"
    assert is_allowed(robots, QUARRY_UA, f"https://gazette.example{path}") is True
    assert is_allowed(robots, QUARRY_UA, f"https://gazette.example{path}/mehr") is False


def test_robots_encoded_query_strings_match_their_raw_form() -> None:
    robots = "User-agent: *\nDisallow: /suche?q=%E3%83%84\n"
    assert is_allowed(robots, QUARRY_UA, "https://gazette.example/suche?q=ツ&page=2") is False
    assert is_allowed(robots, QUARRY_UA, "https://gazette.example/suche?q=%e3%83%84") is False
    assert is_allowed(robots, QUARRY_UA, "https://gazette.example/suche?q=x") is True

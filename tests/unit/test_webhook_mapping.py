"""Payload → URLs: dotted paths and JSON pointers, one URL or a list, hostile payloads."""

from __future__ import annotations

import json

import pytest

from shared.errors import PayloadError
from shared.webhooks.mapping import check_rule, urls_from
from shared.webhooks.schemas import WebhookConfigIn

EVENT = {
    "type": "entry.published",
    "data": {
        "post": {"url": "https://news.example/a"},
        "urls": ["https://x.example/1", "https://x.example/2", "https://x.example/1"],
    },
    "a/b": {"~c": "https://odd.example/"},
}
BODY = json.dumps(EVENT).encode()


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("data.post.url", ["https://news.example/a"]),
        ("/data/post/url", ["https://news.example/a"]),
        ("data.urls", ["https://x.example/1", "https://x.example/2"]),
        ("data.urls.1", ["https://x.example/2"]),
        ("/a~1b/~0c", ["https://odd.example/"]),
    ],
)
def test_webhook_mapping_resolves_paths_and_pointers(rule: str, expected: list[str]) -> None:
    assert urls_from(BODY, rule) == expected


@pytest.mark.parametrize(
    ("body", "rule", "message"),
    [
        (b"not json", "data.url", "not JSON"),
        (BODY, "data.missing.url", "nothing at data.missing"),
        (BODY, "type", "not an http\\(s\\) URL"),
        (json.dumps({"u": "javascript:alert(1)"}).encode(), "u", "not an http\\(s\\) URL"),
        (json.dumps({"u": "file:///etc/passwd"}).encode(), "u", "not an http\\(s\\) URL"),
        (json.dumps({"u": []}).encode(), "u", "between 1 and 100"),
        (json.dumps({"u": ["https://a.example/"] * 101}).encode(), "u", "between 1 and 100"),
        (json.dumps({"u": {"nested": 1}}).encode(), "u", "not an http\\(s\\) URL"),
        (b"[" * 100_000, "u", "not JSON"),
    ],
)
def test_webhook_mapping_refuses_what_is_not_urls(body: bytes, rule: str, message: str) -> None:
    with pytest.raises(PayloadError, match=message) as info:
        urls_from(body, rule)
    assert info.value.status == 422


@pytest.mark.parametrize("rule", ["", "data..url", "data url", "$.data", "/" + "x" * 600])
def test_webhook_mapping_rules_are_checked_when_configured(rule: str) -> None:
    with pytest.raises(ValueError, match="dotted path"):
        check_rule(rule)


def test_webhook_config_refuses_bad_standard_secrets_and_short_secrets() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        WebhookConfigIn(scheme="standard", secrets=["whsec_not base64!!!!!"])
    with pytest.raises(ValueError, match="16 to 200"):
        WebhookConfigIn(scheme="github", secrets=["short"])
    ok = WebhookConfigIn(scheme="github", secrets=["x" * 16], urls_path="data.url")
    assert ok.urls_path == "data.url"

"""Standard Webhooks secrets in every form the reference libraries accept: with or without
`whsec_`, with or without base64 padding, in either base64 alphabet."""

from __future__ import annotations

import pytest

from shared.webhooks.schemas import WebhookConfigIn
from shared.webhooks.signature import sign_standard, standard_key, verify

# 25 bytes (0xfb 0xff 0xbf eight times, then "q"): its base64 needs padding and uses both
# characters the two alphabets disagree on, so every form below differs from the others.
KEY = bytes([0xFB, 0xFF, 0xBF] * 8) + b"q"
FORMS = [
    "whsec_+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/cQ==",  # as Quarry hands secrets out
    "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/cQ==",  # no prefix
    "whsec_+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/cQ",  # no padding
    "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/cQ",  # neither
    "whsec_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_cQ==",  # URL-safe alphabet
    "-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_cQ",  # URL-safe, bare
    "  whsec_+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/cQ==\n",  # pasted with whitespace around it
]
# HMAC-SHA256 of "msg_1.1700000000.{"ok":true}" under KEY, computed outside Quarry.
SIGNATURE = "v1,g+T/I/ikczfeIsuRb2yLrJmKpEAYgclD6vSF0L2ICR8="
HEADERS = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": SIGNATURE}
BODY = b'{"ok":true}'


@pytest.mark.parametrize("secret", FORMS)
def test_webhook_secret_every_reference_form_gives_the_same_key(secret: str) -> None:
    assert standard_key(secret) == KEY


@pytest.mark.parametrize("secret", FORMS)
def test_webhook_secret_every_form_verifies_and_signs_the_same_delivery(secret: str) -> None:
    assert verify("standard", HEADERS, BODY, [secret], now=1_700_000_000).delivery_id == "msg_1"
    assert sign_standard(secret, "msg_1", 1_700_000_000, BODY) == SIGNATURE


@pytest.mark.parametrize("secret", FORMS)
def test_webhook_secret_every_form_is_accepted_as_a_source_setting(secret: str) -> None:
    config = WebhookConfigIn(scheme="standard", secrets=[secret])
    assert config.secrets == [secret]


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_not base64!!!!!",  # spaces and punctuation
        "whsec_",  # nothing after the prefix
        "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWQ=A",  # padding in the middle
        "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWQ===",  # three padding characters
        "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWQABC",  # 4n+1 characters: not base64
        "wh_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWQ",  # another prefix
    ],
)
def test_webhook_secret_malformed_forms_are_refused_saying_what_is_accepted(secret: str) -> None:
    with pytest.raises(ValueError, match=r"base64 \(padding optional\), optionally after `whsec_`"):
        standard_key(secret)

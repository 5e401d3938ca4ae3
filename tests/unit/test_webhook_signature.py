"""Webhook signatures against the published test vectors, and the ways they must fail."""

from __future__ import annotations

import hashlib

import pytest

from shared.webhooks.signature import (
    SignatureError,
    TimestampError,
    Verified,
    sign_github,
    sign_standard,
    verify,
)

# The Standard Webhooks specification's test vector.
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TS = 1614265330
SW_BODY = b'{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# GitHub's webhook documentation's example.
GH_SECRET = "It's a Secret to Everybody"
GH_BODY = b"Hello, World!"
GH_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
OTHER = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"


def sw_headers(signature: str = SW_SIGNATURE, ts: int = SW_TS) -> dict[str, str]:
    return {"webhook-id": SW_ID, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_webhook_standard_signs_the_spec_vector() -> None:
    assert sign_standard(SW_SECRET, SW_ID, SW_TS, SW_BODY) == SW_SIGNATURE


def test_webhook_standard_verifies_the_spec_vector() -> None:
    assert verify("standard", sw_headers(), SW_BODY, [SW_SECRET], now=SW_TS) == Verified(SW_ID)


def test_webhook_github_signs_and_verifies_the_documented_example() -> None:
    assert sign_github(GH_SECRET, GH_BODY) == GH_SIGNATURE
    headers = {"x-hub-signature-256": GH_SIGNATURE, "x-github-delivery": "d-1"}
    by_body = Verified("sha256:" + hashlib.sha256(GH_BODY).hexdigest())
    assert verify("github", headers, GH_BODY, [GH_SECRET], now=0) == by_body
    # X-GitHub-Delivery is not signed: a replay under another id has the same dedup key
    replayed = {**headers, "x-github-delivery": "d-2"}
    assert verify("github", replayed, GH_BODY, [GH_SECRET], now=0) == by_body


@pytest.mark.parametrize(
    "body", [b'{"test": 2432232315}', b'{"test": 2432232314} ', b"", SW_BODY.upper()]
)
def test_webhook_standard_refuses_a_tampered_body(body: bytes) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify("standard", sw_headers(), body, [SW_SECRET], now=SW_TS)


def test_webhook_standard_refuses_a_tampered_id_or_timestamp() -> None:
    forged = sw_headers() | {"webhook-id": "msg_other"}
    with pytest.raises(SignatureError):
        verify("standard", forged, SW_BODY, [SW_SECRET], now=SW_TS)
    with pytest.raises(SignatureError):  # a re-stamped replay no longer matches
        verify("standard", sw_headers(ts=SW_TS + 1), SW_BODY, [SW_SECRET], now=SW_TS)


@pytest.mark.parametrize("skew", [-301, 301, 86400])
def test_webhook_standard_refuses_timestamps_beyond_five_minutes(skew: int) -> None:
    with pytest.raises(TimestampError, match="more than 5 minutes"):
        verify("standard", sw_headers(), SW_BODY, [SW_SECRET], now=SW_TS + skew)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_webhook_standard_accepts_timestamps_within_five_minutes(skew: int) -> None:
    assert verify("standard", sw_headers(), SW_BODY, [SW_SECRET], now=SW_TS + skew).delivery_id


def test_webhook_standard_malformed_timestamp_is_400() -> None:
    with pytest.raises(TimestampError, match="not whole seconds"):
        verify(
            "standard", sw_headers(ts=0) | {"webhook-timestamp": "soon"}, SW_BODY, [SW_SECRET], 0
        )


def test_webhook_rotation_accepts_any_listed_signature_and_secret() -> None:
    both = f"v1,bm90IGl0 {SW_SIGNATURE} v2,ignored"
    assert verify("standard", sw_headers(both), SW_BODY, [SW_SECRET], SW_TS).delivery_id == SW_ID
    # the receiver rotating: the old secret still in the list
    assert verify("standard", sw_headers(), SW_BODY, [OTHER, SW_SECRET], SW_TS).delivery_id


def test_webhook_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureError):
        verify("standard", sw_headers(), SW_BODY, [OTHER], now=SW_TS)
    headers = {"x-hub-signature-256": GH_SIGNATURE, "x-github-delivery": "d-1"}
    with pytest.raises(SignatureError):
        verify("github", headers, GH_BODY, ["It's a secret to everybody"], now=0)


@pytest.mark.parametrize(
    ("scheme", "headers", "message"),
    [
        ("standard", {}, "missing webhook-id"),
        ("standard", {"webhook-id": "a", "webhook-timestamp": "1"}, "missing webhook-signature"),
        ("standard", sw_headers("v2,abc"), "no v1 signature"),
        ("standard", sw_headers("v1,@@@"), "no v1 signature"),
        ("github", {"x-github-delivery": "d"}, "missing x-hub-signature-256"),
        ("github", {"x-hub-signature-256": "sha256=zz", "x-github-delivery": "d"}, "not `sha256="),
        ("generic", {}, "missing x-signature"),
    ],
)
def test_webhook_missing_or_malformed_signatures_are_401(
    scheme: str, headers: dict[str, str], message: str
) -> None:
    with pytest.raises(SignatureError, match=message) as info:
        verify(scheme, headers, SW_BODY, [SW_SECRET, GH_SECRET], now=SW_TS)  # type: ignore[arg-type]
    assert info.value.status == 401


def test_webhook_generic_header_with_or_without_prefix_and_body_hash_id() -> None:
    hexsig = sign_github(GH_SECRET, GH_BODY).removeprefix("sha256=")
    plain = verify("generic", {"x-sig": hexsig}, GH_BODY, [GH_SECRET], 0, header="X-Sig")
    assert plain.delivery_id == "sha256:" + hashlib.sha256(GH_BODY).hexdigest()
    prefixed = {"x-sig": "sha256=" + hexsig, "x-delivery-id": "evt-9"}  # not signed: not the key
    assert verify("generic", prefixed, GH_BODY, [GH_SECRET], 0, header="x-sig") == plain


def test_webhook_no_secret_configured_refuses_everything() -> None:
    with pytest.raises(SignatureError, match="no webhook secret"):
        verify("standard", sw_headers(), SW_BODY, [], now=SW_TS)

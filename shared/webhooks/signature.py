"""Webhook signatures (pure): Standard Webhooks, GitHub's and a generic HMAC header.

Every check runs over the raw body, compares in constant time, and accepts any of several
secrets so a sender can rotate its key without a gap.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from shared.errors import BadRequestError, QuarryError

Scheme = Literal["standard", "github", "generic"]
SCHEMES: tuple[Scheme, ...] = ("standard", "github", "generic")
TOLERANCE_S = 5 * 60
STANDARD_PREFIX = "whsec_"
GENERIC_HEADER = "x-signature"
MAX_ID = 200
# base64 in either alphabet (standard, URL-safe), padding optional, as the reference libraries
# decode it (Node's Buffer, which the JavaScript library uses, is this lenient).
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_URL_SAFE = str.maketrans("-_", "+/")


class SignatureError(QuarryError):
    """Missing or wrong signature: the delivery is not from the configured sender."""

    status = 401
    title = "Unauthorized"
    slug = "signature"


class TimestampError(BadRequestError):
    """The signed timestamp is missing, malformed or outside the tolerance (a replay)."""

    slug = "timestamp"


@dataclass(frozen=True)
class Verified:
    """An authentic delivery and its dedup key: an id the signature covers (Standard
    Webhooks' `webhook-id`), else the body's hash, since a header the signature does not
    cover could be changed by anyone replaying the delivery."""

    delivery_id: str


def body_key(body: bytes) -> str:
    """The dedup key of a delivery whose signature covers only its body."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _mac(key: bytes, content: bytes) -> bytes:
    return hmac.new(key, content, hashlib.sha256).digest()


def standard_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret, in every form the reference libraries
    accept: `whsec_` + base64 or the base64 alone, with or without its `=` padding, in the
    standard or the URL-safe alphabet."""
    text = secret.strip().removeprefix(STANDARD_PREFIX)
    bare = text.rstrip("=")
    if not _BASE64.fullmatch(text) or len(bare) % 4 == 1:
        raise ValueError(
            "a Standard Webhooks secret is base64 (padding optional), optionally after "
            "`whsec_`, e.g. whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        )
    return base64.b64decode(bare.translate(_URL_SAFE) + "=" * (-len(bare) % 4))


def sign_standard(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value (`v1,<base64>`) for one message."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(_mac(standard_key(secret), content)).decode()


def sign_github(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value (`sha256=<hex>`)."""
    return "sha256=" + _mac(secret.encode(), body).hex()


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name.lower(), "").strip()
    if not value:
        raise SignatureError(f"missing {name} header; this source expects signed deliveries")
    return value


def _checked_id(value: str, name: str) -> str:
    if len(value) > MAX_ID or not value.isprintable():
        raise SignatureError(f"{name} must be at most {MAX_ID} printable characters")
    return value


def verify_standard(
    headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: float
) -> Verified:
    """Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (v1 entries,
    space separated). The signature is checked before the timestamp, so only an authentic
    message can learn that it was late."""
    msg_id = _checked_id(_header(headers, "webhook-id"), "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    given = _header(headers, "webhook-signature")
    if not stamp.isdigit() or len(stamp) > 12:
        raise TimestampError(f"webhook-timestamp {stamp[:20]!r} is not whole seconds since 1970")
    content = f"{msg_id}.{stamp}.".encode() + body
    offered = []
    for entry in given.split(" "):
        version, _, sig = entry.partition(",")
        if version == "v1" and sig:
            try:
                offered.append(base64.b64decode(sig, validate=True))
            except (binascii.Error, ValueError):
                continue
    if not offered:
        raise SignatureError("webhook-signature has no v1 signature (expected `v1,<base64>`)")
    if not _any_match(offered, [_mac(standard_key(s), content) for s in secrets]):
        raise SignatureError("webhook-signature does not match the body and the source's secret")
    if abs(now - int(stamp)) > TOLERANCE_S:
        raise TimestampError(
            f"webhook-timestamp {stamp} is more than {TOLERANCE_S // 60} minutes from now; "
            "deliveries must be sent (and retried) with a fresh timestamp"
        )
    return Verified(msg_id)


def verify_github(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> Verified:
    """GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body. `X-GitHub-Delivery` is
    required but not signed, so the dedup key is the body's hash."""
    given = _header(headers, "x-hub-signature-256")
    _checked_id(_header(headers, "x-github-delivery"), "X-GitHub-Delivery")
    offered = _hex_signature(given, "X-Hub-Signature-256")
    if not _any_match([offered], [_mac(s.encode(), body) for s in secrets]):
        raise SignatureError("X-Hub-Signature-256 does not match the body and the secret")
    return Verified(body_key(body))


def verify_generic(
    headers: Mapping[str, str], body: bytes, secrets: Sequence[str], header: str
) -> Verified:
    """A hex HMAC-SHA256 of the body in a configured header (`sha256=` prefix optional);
    the dedup key is the body's hash (an id header would not be signed)."""
    offered = _hex_signature(_header(headers, header), header)
    if not _any_match([offered], [_mac(s.encode(), body) for s in secrets]):
        raise SignatureError(f"{header} does not match the body and the source's secret")
    return Verified(body_key(body))


def verify(
    scheme: Scheme,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float,
    header: str | None = None,
) -> Verified:
    """Check one delivery; `headers` keys are lower case. SignatureError (401) or
    TimestampError (400) when it must not start anything."""
    if not secrets:
        raise SignatureError("this source has no webhook secret configured")
    if scheme == "standard":
        return verify_standard(headers, body, secrets, now)
    if scheme == "github":
        return verify_github(headers, body, secrets)
    return verify_generic(headers, body, secrets, (header or GENERIC_HEADER).lower())


def _hex_signature(value: str, name: str) -> bytes:
    text = value.removeprefix("sha256=")
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise SignatureError(f"{name} is not `sha256=` followed by hex digits") from exc


def _any_match(offered: Sequence[bytes], expected: Sequence[bytes]) -> bool:
    """Constant-time comparison of every pair (no early exit that timing could reveal)."""
    found = False
    for sig in offered:
        for want in expected:
            found |= hmac.compare_digest(sig, want)
    return found

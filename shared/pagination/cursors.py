"""List pagination: opaque, tamper-evident cursors and page-size limits for the API."""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from shared.errors import BadRequestError

_TAG_BYTES = 16


class CursorError(BadRequestError, ValueError):
    """A cursor token not issued with this secret, or altered since; the API answers 400."""


@dataclass(frozen=True)
class Cursor:
    """A position in a stable list order: the sort value and the id that breaks ties."""

    key: str
    id: str


def encode_cursor(c: Cursor, secret: bytes) -> str:
    """An opaque token for c, signed so clients can carry it but not forge or edit it."""
    payload = json.dumps([c.key, c.id], separators=(",", ":")).encode()
    token = payload + _tag(payload, secret)
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")


def decode_cursor(token: str, secret: bytes) -> Cursor:
    """The Cursor behind a token from encode_cursor; CursorError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CursorError("invalid cursor: not urlsafe base64") from exc
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        # b64decode skips characters outside the alphabet; a canonical token has none
        raise CursorError("invalid cursor: not urlsafe base64")
    if len(raw) <= _TAG_BYTES:
        raise CursorError("invalid cursor: too short")
    payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(payload, secret)):
        raise CursorError("invalid cursor: signature does not match")
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise CursorError("invalid cursor: payload is not JSON") from exc
    match data:
        case [str(key), str(id_)]:
            return Cursor(key=key, id=id_)
    raise CursorError("invalid cursor: payload is not a [key, id] pair of strings")


def clamp_limit(limit: int | None, *, default: int = 50, maximum: int = 200) -> int:
    """The page size to use: default when the client gave none, else limit if within 1..maximum.

    Out-of-range limits are refused rather than silently clamped, so a client asking for
    1000 rows learns it gets at most `maximum` instead of quietly receiving fewer.
    """
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise ValueError(f"limit must be between 1 and {maximum}, got {limit}")
    return limit


def _tag(payload: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()[:_TAG_BYTES]

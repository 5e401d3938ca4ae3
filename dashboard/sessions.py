"""Signed cookies: the login session and the CSRF token that every form carries.

A session cookie is `payload.tag` where the payload names the user and the expiry and the tag
is an HMAC under a key derived from `secret_key`; a CSRF cookie holds a random value and each
form a token derived from it, so a page on another site can neither read nor forge one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

SESSION_COOKIE = "quarry_session"
CSRF_COOKIE = "quarry_csrf"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE_S = 12 * 3600


def _key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"quarry-dashboard:{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    user: str
    expires: int


def issue_session(secret: bytes, user: str, now: float | None = None) -> str:
    """A cookie value for `user`, valid for SESSION_MAX_AGE_S."""
    expires = int((now if now is not None else time.time()) + SESSION_MAX_AGE_S)
    payload = json.dumps({"u": user, "e": expires, "n": secrets.token_hex(8)}).encode()
    tag = hmac.new(_key(secret, "session"), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(tag)}"


def read_session(secret: bytes, value: str | None, now: float | None = None) -> Session | None:
    """The session in a cookie value, or None when absent, forged, altered or expired."""
    if not value or value.count(".") != 1 or len(value) > 1024:
        return None
    try:
        head, tail = value.split(".")
        payload, tag = _unb64(head), _unb64(tail)
        expected = hmac.new(_key(secret, "session"), payload, hashlib.sha256).digest()
        if not hmac.compare_digest(tag, expected):
            return None
        data = json.loads(payload)
    except ValueError:
        return None
    match data:
        case {"u": str(user), "e": int(expires)}:
            if expires <= (now if now is not None else time.time()):
                return None
            return Session(user, expires)
    return None


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(secret: bytes, cookie: str) -> str:
    """The form token that goes with a CSRF cookie value."""
    return _b64(hmac.new(_key(secret, "csrf"), cookie.encode(), hashlib.sha256).digest())


def is_valid_csrf(secret: bytes, cookie: str | None, token: str | None) -> bool:
    if not cookie or not token or len(cookie) > 256:
        return False
    return hmac.compare_digest(csrf_token(secret, cookie), token)

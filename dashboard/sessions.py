"""The dashboard's cookies: the login session's token (the session itself is a server-side
record, see shared.auth.sessions) and the CSRF token that every form carries.

A CSRF cookie holds a random value and each form a token derived from it under a key derived
from `secret_key`, so a page on another site can neither read nor forge one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SESSION_COOKIE = "quarry_session"
CSRF_COOKIE = "quarry_csrf"
CSRF_FIELD = "csrf_token"


def _key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"quarry-dashboard:{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(secret: bytes, cookie: str) -> str:
    """The form token that goes with a CSRF cookie value."""
    return _b64(hmac.new(_key(secret, "csrf"), cookie.encode(), hashlib.sha256).digest())


def is_valid_csrf(secret: bytes, cookie: str | None, token: str | None) -> bool:
    if not cookie or not token or len(cookie) > 256:
        return False
    return hmac.compare_digest(csrf_token(secret, cookie), token)

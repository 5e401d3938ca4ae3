"""Dashboard passwords: salted scrypt hashes `scrypt$N$r$p$salt$hash`, checked in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from shared.errors import ConfigError

N, R, P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=256 * 1024 * 1024
    )


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A hash to store as QUARRY_DASHBOARD_PASSWORD_HASH; never the password itself."""
    if not password:
        raise ConfigError("the password is empty; choose one of at least 8 characters")
    if len(password) < 8:
        raise ConfigError("the password is too short; choose one of at least 8 characters")
    salt = salt or secrets.token_bytes(_SALT_BYTES)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_derive(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; a malformed hash matches nothing."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        params = int(n), int(r), int(p)
        if not (2 <= params[0] <= 2**20 and params[1] <= 64 and params[2] <= 16):
            return False
        expected = _unb64(key)
        actual = _derive(password[:1024], _unb64(salt), *params)
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)

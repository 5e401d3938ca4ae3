"""API keys: high-entropy tokens of which only the sha256 is stored, with one scope each.

Scopes are ordered: `admin` can do what `write` can, `write` what `read` can.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update

from shared.config import Settings
from shared.db.models import ApiKey, utcnow
from shared.errors import NotFoundError, QuarryError
from shared.ports import Database

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
RANK = {scope: i for i, scope in enumerate(SCOPES)}
KEY_PREFIX = "qk_"
BOOTSTRAP_ID = "bootstrap"
CACHE_S = 2.0  # how long another instance may still accept a revoked key


class UnauthorizedError(QuarryError):
    """No API key, or one that is unknown or revoked."""

    status = 401
    title = "Unauthorized"
    slug = "unauthorized"


class ForbiddenError(QuarryError):
    """A valid API key whose scope does not cover the operation."""

    status = 403
    title = "Forbidden"
    slug = "forbidden"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's id (never the key) and its scope."""

    key_id: str
    scope: Scope

    def allows(self, needed: Scope) -> bool:
        return RANK[self.scope] >= RANK[needed]


def hash_key(key: str) -> str:
    """sha256 of the key, hex: enough for a 256-bit random key (no salt or KDF needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate() -> str:
    """A new key: `qk_` and 43 URL-safe characters (256 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def is_enabled(settings: Settings) -> bool:
    """Whether /api/ asks for keys: `auto` is on outside dev and test."""
    if settings.api_auth == "auto":
        return settings.env in ("stack", "lambda")
    return settings.api_auth == "on"


def presented(headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    """The key a request carries: `Authorization: Bearer KEY` or `X-Api-Key: KEY`."""
    for name, value in headers:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").strip().partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
        elif name == b"x-api-key" and value.strip():
            return value.decode("latin-1").strip()
    return None


class RecentKeys:
    """Keys that authenticated in the last `ttl_s` seconds, so a busy client costs one
    database read per key every few seconds rather than one per request; and keys that did
    not, so repeating a wrong key costs no read at all. A revocation clears this process's
    entries at once and holds everywhere else within `ttl_s`."""

    def __init__(self, ttl_s: float = CACHE_S, max_items: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._items: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def lookup(self, digest: str) -> tuple[bool, Principal | None]:
        """(known, principal): known is False when the key was not seen lately; a known
        key with no principal was refused."""
        with self._lock:
            item = self._items.get(digest)
        if item is None or item[0] < time.monotonic():
            return False, None
        return True, item[1]

    def get(self, digest: str) -> Principal | None:
        return self.lookup(digest)[1]

    def put(self, digest: str, principal: Principal | None) -> None:
        with self._lock:
            if len(self._items) >= self.max_items:
                self._items.clear()
            self._items[digest] = (time.monotonic() + self.ttl_s, principal)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


RECENT = RecentKeys()


def known(settings: Settings, key: str) -> Principal | None:
    """The principal of a key that needs no database read: the bootstrap key, or one that
    authenticated in the last few seconds."""
    digest = hash_key(key)
    boot = settings.bootstrap_api_key
    if boot is not None and hmac.compare_digest(digest, hash_key(boot.get_secret_value())):
        return Principal(BOOTSTRAP_ID, "admin")
    return RECENT.get(digest)


async def authenticate(db: Database, settings: Settings, key: str) -> Principal | None:
    """The principal of a presented key, or None when it is unknown or revoked."""
    principal = known(settings, key)
    if principal is not None:
        return principal
    if len(key) > 200:
        return None
    digest = hash_key(key)
    seen, _ = RECENT.lookup(digest)
    if seen:  # refused moments ago: no second read
        return None
    async with db.writer() as session:  # the primary: never a replica that lags a revocation
        row = await session.scalar(
            select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
        )
    principal = None if row is None else Principal(row.id, row.scope)  # type: ignore[arg-type]
    RECENT.put(digest, principal)
    return principal


async def create(db: Database, name: str, scope: Scope) -> tuple[ApiKey, str]:
    """Store a new key's hash; the key itself is returned once and never again."""
    key = generate()
    row = ApiKey(name=name, scope=scope, prefix=key[:10], key_hash=hash_key(key))
    async with db.writer() as session:
        session.add(row)
    return row, key


async def revoke(db: Database, key_id: str) -> ApiKey:
    """Revoke a key at once (idempotent); NotFoundError for an unknown id."""
    async with db.writer() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        row = await session.get(ApiKey, key_id)
        if row is None:
            raise NotFoundError(f"API key {key_id} does not exist")
    RECENT.clear()
    return row


async def list_keys(db: Database) -> list[ApiKey]:
    async with db.writer() as session:
        return list(
            (await session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc()))).all()
        )

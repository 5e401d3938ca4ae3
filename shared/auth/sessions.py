"""Dashboard sessions kept server-side, so they can end: the browser's cookie holds a random
token and the database its sha256, with who logged in and a mark of the credential used.

A session ends when it is logged out (on every instance, within CACHE_S), when it expires,
when the dashboard password or the secret key changes (its mark no longer matches), and
when the API key it was opened with is revoked: every request checks the row and the key,
remembered for CACHE_S like API keys are. Knowing QUARRY_SECRET_KEY forges nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from shared.auth.keys import BOOTSTRAP_ID, CACHE_S, hash_key
from shared.config import Settings
from shared.db.models import ApiKey, DashboardSession, utcnow
from shared.ports import Database

MAX_AGE_S = 8 * 3600
PASSWORD_USER = "admin"
KEY_USER = "key:"  # a session opened with an API key names the key's id, never the key


@dataclass(frozen=True)
class Session:
    """A live session: who, the API key it came from (if any), and when it expires."""

    user: str
    key_id: str | None
    expires_at: datetime


@dataclass(frozen=True)
class _Record:
    session: Session
    mark: str
    ended: bool  # logged out, or its API key revoked or gone


def mark_of(settings: Settings, user: str) -> str | None:
    """What a session of `user` is bound to: the password hash, or the bootstrap key, under
    the secret key; None when that credential is not configured (no session can be valid)."""
    secret = settings.secret_key.get_secret_value().encode()
    if user == PASSWORD_USER:
        stored = settings.dashboard_password_hash
        material = None if stored is None else "password:" + stored.get_secret_value()
    elif user == KEY_USER + BOOTSTRAP_ID:
        boot = settings.bootstrap_api_key
        material = None if boot is None else "bootstrap:" + hash_key(boot.get_secret_value())
    elif user.startswith(KEY_USER):
        material = "key"  # the key's own row says whether it still holds
    else:
        return None
    if material is None:
        return None
    return hmac.new(secret, material.encode(), hashlib.sha256).hexdigest()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RecentSessions:
    """Session rows read in the last `ttl_s` seconds, so a page view costs no database read
    most of the time; an ended session is dropped from this process at once."""

    def __init__(self, ttl_s: float = CACHE_S, max_items: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._items: dict[str, tuple[float, _Record | None]] = {}
        self._lock = threading.Lock()

    def lookup(self, digest: str) -> tuple[bool, _Record | None]:
        with self._lock:
            item = self._items.get(digest)
        if item is None or item[0] < time.monotonic():
            return False, None
        return True, item[1]

    def put(self, digest: str, record: _Record | None) -> None:
        with self._lock:
            if len(self._items) >= self.max_items:
                self._items.clear()
            self._items[digest] = (time.monotonic() + self.ttl_s, record)

    def drop(self, digest: str) -> None:
        with self._lock:
            self._items.pop(digest, None)


RECENT = RecentSessions()


async def open_session(db: Database, settings: Settings, user: str) -> str:
    """Record a new session of `user` and return its token (for the cookie, shown once)."""
    mark = mark_of(settings, user)
    if mark is None:
        raise ValueError(f"no credential is configured for {user!r}")
    token = secrets.token_urlsafe(32)
    key_id = user.removeprefix(KEY_USER) if user.startswith(KEY_USER) else None
    async with db.writer() as session:
        session.add(
            DashboardSession(
                token_hash=_digest(token),
                user=user,
                key_id=None if key_id == BOOTSTRAP_ID else key_id,
                mark=mark,
                expires_at=utcnow() + timedelta(seconds=MAX_AGE_S),
            )
        )
    return token


async def _load(db: Database, digest: str) -> _Record | None:
    async with db.writer() as session:  # the primary: a replica may lag a logout
        found = (
            await session.execute(
                select(DashboardSession, ApiKey.id, ApiKey.revoked_at)
                .outerjoin(ApiKey, ApiKey.id == DashboardSession.key_id)
                .where(DashboardSession.token_hash == digest)
            )
        ).first()
    if found is None:
        return None
    row, key_id, key_revoked = found
    key_gone = row.key_id is not None and (key_id is None or key_revoked is not None)
    live = Session(row.user, row.key_id, row.expires_at)
    return _Record(live, row.mark, ended=row.revoked_at is not None or key_gone)


async def read_session(db: Database, settings: Settings, token: str | None) -> Session | None:
    """The live session a cookie's token names, or None (absent, unknown, ended, expired,
    or bound to a password or key that has since changed)."""
    if not token or len(token) > 200:
        return None
    digest = _digest(token)
    seen, record = RECENT.lookup(digest)
    if not seen:
        record = await _load(db, digest)
        RECENT.put(digest, record)
    if record is None or record.ended or record.session.expires_at <= utcnow():
        return None
    expected = mark_of(settings, record.session.user)
    if expected is None or not hmac.compare_digest(expected, record.mark):
        return None
    return record.session


async def end_session(db: Database, token: str | None) -> None:
    """Log a session out: its row is marked ended, so no instance accepts it again."""
    if not token or len(token) > 200:
        return
    digest = _digest(token)
    async with db.writer() as session:
        await session.execute(
            update(DashboardSession)
            .where(DashboardSession.token_hash == digest, DashboardSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    RECENT.drop(digest)

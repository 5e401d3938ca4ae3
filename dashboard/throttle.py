"""Guessing the dashboard password is slow: attempts are counted per account and client
address in the cache port (shared by every instance in the stack), atomically and before the
password is checked, so concurrent guesses cannot slip past the limit together. The client
is the address a trusted proxy reports (QUARRY_TRUSTED_PROXIES), so clients behind the
stack's nginx do not share one counter."""

from __future__ import annotations

from fastapi import Request

from shared.config import Settings
from shared.net import forwarded_client, networks
from shared.ports import Cache

MAX_FAILURES = 10
WINDOW_S = 300.0


def client_of(request: Request, settings: Settings) -> str:
    """The caller's address: the peer, or what a trusted proxy says the peer was."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    return forwarded_client(peer, forwarded, networks(settings.trusted_proxies))


def _key(account: str, client: str) -> str:
    return f"quarry:dashboard:login-attempts:{account}:{client}"


async def count_attempt(cache: Cache, account: str, client: str) -> bool:
    """Count one login attempt; False when the account is locked out for this client (more
    than MAX_FAILURES attempts without a success within WINDOW_S)."""
    return await cache.incr(_key(account, client), WINDOW_S) <= MAX_FAILURES


async def clear(cache: Cache, account: str, client: str) -> None:
    """A successful login starts the count again."""
    await cache.set(_key(account, client), b"0", 1.0)

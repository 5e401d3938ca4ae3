"""Failed logins counted per client address in the cache port (shared by every instance in the
stack), so guessing the dashboard password is slow."""

from __future__ import annotations

from fastapi import Request

from shared.ports import Cache

MAX_FAILURES = 10
WINDOW_S = 300.0
_LOOPBACK = ("127.0.0.1", "::1")


def client_of(request: Request) -> str:
    """The caller's address; behind the local nginx, the address nginx saw (the last
    X-Forwarded-For entry, the one it appended), never one the client wrote itself."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if peer in _LOOPBACK and forwarded:
        return forwarded.split(",")[-1].strip()[:64] or peer
    return peer


def _key(client: str) -> str:
    return f"quarry:dashboard:login-failures:{client}"


async def failures(cache: Cache, client: str) -> int:
    raw = await cache.get(_key(client))
    try:
        return int(raw or b"0")
    except ValueError:
        return 0


async def is_locked_out(cache: Cache, client: str) -> bool:
    return await failures(cache, client) >= MAX_FAILURES


async def record_failure(cache: Cache, client: str) -> None:
    count = await failures(cache, client) + 1
    await cache.set(_key(client), str(count).encode(), WINDOW_S)


async def clear(cache: Cache, client: str) -> None:
    await cache.set(_key(client), b"0", 1.0)

"""Idempotency-Key: a retried POST gets the first answer instead of doing the work twice.

Keys live in the database under a unique (key, route) constraint, never in the cache: the
first request claims the key, a concurrent copy gets 409, a later copy the stored response,
and the same key with another body 422. Records expire after 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from shared.db.models import IdempotencyKey, utcnow
from shared.errors import ConflictError, PayloadError
from shared.ports import Runtime

TTL = timedelta(hours=24)
STALE = timedelta(seconds=60)  # a claim this old was left by a process that died
MAX_KEY = 255


@dataclass(frozen=True)
class Replay:
    """The stored answer of the request that first used the key."""

    status: int
    body: dict[str, Any]


def fingerprint(payload: object) -> str:
    """sha256 of the request's canonical JSON: the same request, however it was spaced."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY or not key.isprintable():
        raise PayloadError(f"Idempotency-Key must be 1 to {MAX_KEY} printable characters")
    return key


async def claim(rt: Runtime, key: str, route: str, request_hash: str) -> Replay | None:
    """Claim `key` for this request (None: go ahead, then `finish` or `release`), or the
    earlier answer to replay. ConflictError while the first is in flight; PayloadError when
    the key was used with another request."""
    check_key(key)
    for _ in range(2):
        now = utcnow()
        try:
            async with rt.db.writer() as session:
                session.add(
                    IdempotencyKey(
                        key=key,
                        route=route,
                        request_hash=request_hash,
                        state="processing",
                        created_at=now,
                        expires_at=now + TTL,
                    )
                )
            return None
        except IntegrityError:
            pass
        async with rt.db.writer() as session:
            row = await session.scalar(
                select(IdempotencyKey).where(
                    IdempotencyKey.key == key, IdempotencyKey.route == route
                )
            )
            stale = row is not None and row.state == "processing" and row.created_at < now - STALE
            if row is None or row.expires_at < now or stale:
                await session.execute(
                    delete(IdempotencyKey).where(
                        IdempotencyKey.key == key, IdempotencyKey.route == route
                    )
                )
                continue
        if row.request_hash != request_hash:
            raise PayloadError(
                "this Idempotency-Key was already used with a different request; use a new "
                "key for a new request"
            )
        if row.state != "done" or row.status_code is None or row.response is None:
            raise ConflictError(
                "a request with this Idempotency-Key is still in progress; retry shortly"
            )
        return Replay(row.status_code, row.response)
    raise ConflictError("this Idempotency-Key is contended; retry shortly")


async def finish(rt: Runtime, key: str, route: str, status: int, body: dict[str, Any]) -> None:
    """Store the answer that replays of `key` get."""
    async with rt.db.writer() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == key, IdempotencyKey.route == route)
            .values(state="done", status_code=status, response=body)
        )


async def release(rt: Runtime, key: str, route: str) -> None:
    """Give the key up after a failure, so a retry can do the work."""
    async with rt.db.writer() as session:
        await session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.key == key,
                IdempotencyKey.route == route,
                IdempotencyKey.state == "processing",
            )
        )

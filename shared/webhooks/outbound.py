"""Outbound run events: written with the run's final state (a transactional outbox of
their own), then posted by the relay, retried with exponential backoff, and logged.

`enqueue()` is the run-state hook (shared.runs calls it in the transaction that makes a
run final); the scheduler calls `relay()` every tick, so no request or stage waits on a
subscriber.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import OutboundDelivery, Run, WebhookSubscription, utcnow
from shared.logs import get_logger
from shared.ports import Runtime
from shared.webhooks import retention, vault
from shared.webhooks.sender import Attempt, Sender

log = get_logger("quarry.webhooks.outbound")
EVENT_OF = {"succeeded": "run.completed", "failed": "run.failed"}
BACKOFF_S = 10.0
MAX_ATTEMPTS = 8  # 10 s, 20 s, ... 21 min: about 42 minutes in all
PARALLEL = 8
PRUNE_EVERY_S = 3600.0
LEASE_S = 120.0  # a relay that died mid-send leaves the row to another after this


def backoff(attempts: int, base_s: float = BACKOFF_S) -> timedelta:
    """Wait before attempt `attempts + 1`: base, doubling."""
    return timedelta(seconds=base_s * 2 ** max(0, attempts - 1))


async def enqueue(session: AsyncSession, run_id: str, state: str) -> int:
    """Queue the run's final event for every subscriber of its source, in the caller's
    transaction; unique per (subscriber, event), so a second call adds nothing."""
    event = EVENT_OF.get(state)
    if event is None:
        return 0
    row = (
        await session.execute(
            select(Run.source_id, Run.discovered, Run.error, Run.created_at).where(Run.id == run_id)
        )
    ).one_or_none()
    if row is None:
        return 0
    subs = (
        await session.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.source_id == row.source_id,
                WebhookSubscription.active.is_(True),
            )
        )
    ).all()
    now = utcnow()
    payload = {
        "type": event,
        "timestamp": now.isoformat(),
        "data": {
            "run_id": run_id,
            "source_id": row.source_id,
            "state": state,
            "discovered": row.discovered,
            "error": row.error,
        },
    }
    event_id = f"msg_{run_id}_{event.split('.')[1]}"
    added = 0
    for sub in subs:
        if event not in sub.events:
            continue
        exists = await session.scalar(
            select(OutboundDelivery.id).where(
                OutboundDelivery.subscription_id == sub.id, OutboundDelivery.event_id == event_id
            )
        )
        if exists is None:
            session.add(
                OutboundDelivery(
                    subscription_id=sub.id,
                    event_id=event_id,
                    event=event,
                    run_id=run_id,
                    payload=payload,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                )
            )
            added += 1
    return added


async def _claim(rt: Runtime, now: datetime, limit: int) -> list[str]:
    """Take due rows for this relay: a conditional update, so two relays never both send."""
    claimed: list[str] = []
    async with rt.db.writer() as session:
        due = (
            await session.scalars(
                select(OutboundDelivery.id)
                .where(OutboundDelivery.state == "pending", OutboundDelivery.next_attempt_at <= now)
                .order_by(OutboundDelivery.next_attempt_at)
                .limit(limit)
            )
        ).all()
        for row_id in due:
            took = await session.execute(
                update(OutboundDelivery)
                .where(
                    OutboundDelivery.id == row_id,
                    OutboundDelivery.state == "pending",
                    OutboundDelivery.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + timedelta(seconds=LEASE_S))
            )
            if took.rowcount:  # type: ignore[attr-defined]
                claimed.append(row_id)
    return claimed


async def relay(
    rt: Runtime,
    *,
    sender: Sender | None = None,
    now: datetime | None = None,
    base_s: float = BACKOFF_S,
    limit: int = 50,
) -> int:
    """Post every due event once; returns how many were delivered this time."""
    now = now or utcnow()
    claimed = await _claim(rt, now, limit)
    if not claimed:
        return 0
    sender = sender or Sender(rt.settings)
    gate = asyncio.Semaphore(PARALLEL)

    async def one(row_id: str) -> bool:
        async with gate:
            async with rt.db.writer() as session:
                row = await session.get(OutboundDelivery, row_id)
                sub = await session.get(WebhookSubscription, row.subscription_id) if row else None
            if row is None or sub is None:
                return False
            body = json.dumps(row.payload, separators=(",", ":")).encode()
            secret = vault.unseal(rt.settings.secret_key, sub.secret)[0]
            attempt = await sender.post(client, sub.url, secret, row.event_id, body)
            await _settle(rt, row_id, attempt, now, base_s)
            return attempt.ok

    async with sender.client() as client:
        done = await asyncio.gather(*(one(row_id) for row_id in claimed))
    return sum(done)


_tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]]
_tasks = weakref.WeakKeyDictionary()


def kick(rt: Runtime) -> None:
    """Relay in the background unless a relay is already running on this loop, so the
    scheduler's tick never waits on a slow subscriber."""
    loop = asyncio.get_running_loop()
    task = _tasks.get(loop)
    if task is None or task.done():
        _tasks[loop] = loop.create_task(_relay_logged(rt))


_pruned: dict[int, float] = {}


async def _relay_logged(rt: Runtime) -> None:
    try:
        await relay(rt)
        if time.monotonic() - _pruned.get(id(rt), float("-inf")) >= PRUNE_EVERY_S:
            _pruned[id(rt)] = time.monotonic()
            await retention.prune(rt, utcnow())
    except Exception:  # a background boundary: the next tick tries again
        log.exception("outbound webhook relay failed; retrying next tick")


async def _settle(rt: Runtime, row_id: str, attempt: Attempt, now: datetime, base_s: float) -> None:
    async with rt.db.writer() as session:
        row = await session.get(OutboundDelivery, row_id)
        if row is None:
            return
        row.attempts += 1
        row.last_status, row.last_error = attempt.status, attempt.error
        if attempt.ok:
            row.state, row.delivered_at = "delivered", utcnow()
        elif row.attempts >= MAX_ATTEMPTS:
            row.state = "failed"
            log.warning("outbound webhook gave up", extra={"delivery": row_id})
        else:
            row.next_attempt_at = now + backoff(row.attempts, base_s)

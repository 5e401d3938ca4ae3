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


async def _claim(
    rt: Runtime, now: datetime, limit: int, busy: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """Take due rows for this relay: a conditional update, so two relays never both send.
    Rows of the subscriptions in `busy` (being posted to by this process) wait their turn.
    Returns (row id, subscription id) pairs."""
    claimed: list[tuple[str, str]] = []
    if limit <= 0:
        return claimed
    async with rt.db.writer() as session:
        due = (
            await session.execute(
                select(OutboundDelivery.id, OutboundDelivery.subscription_id)
                .where(
                    OutboundDelivery.state == "pending",
                    OutboundDelivery.next_attempt_at <= now,
                    OutboundDelivery.subscription_id.not_in(busy),
                )
                .order_by(OutboundDelivery.next_attempt_at)
                .limit(limit)
            )
        ).all()
        for row_id, sub_id in due:
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
                claimed.append((row_id, sub_id))
    return claimed


async def _deliver(rt: Runtime, sender: Sender, row_id: str, now: datetime, base_s: float) -> bool:
    """Post one claimed row and record the attempt; True when the subscriber took it."""
    async with rt.db.writer() as session:
        row = await session.get(OutboundDelivery, row_id)
        sub = await session.get(WebhookSubscription, row.subscription_id) if row else None
    if row is None or sub is None:
        return False
    body = json.dumps(row.payload, separators=(",", ":")).encode()
    secret = vault.unseal(rt.settings.secret_key, sub.secret)[0]
    async with sender.client() as client:  # one per POST: a slow subscriber holds only its own
        attempt = await sender.post(client, sub.url, secret, row.event_id, body)
    await _settle(rt, row_id, attempt, now, base_s)
    return attempt.ok


async def relay(
    rt: Runtime,
    *,
    sender: Sender | None = None,
    now: datetime | None = None,
    base_s: float = BACKOFF_S,
    limit: int = 50,
) -> int:
    """Post every due event once and wait for the answers (each POST within its deadline);
    returns how many were delivered this time. The Lambda ticker calls this; a long-running
    scheduler calls kick(), which does not wait."""
    now = now or utcnow()
    claimed = await _claim(rt, now, limit)
    if not claimed:
        return 0
    sender = sender or Sender(rt.settings)
    gate = asyncio.Semaphore(PARALLEL)

    async def one(row_id: str) -> bool:
        async with gate:
            return await _deliver(rt, sender, row_id, now, base_s)

    done = await asyncio.gather(*(one(row_id) for row_id, _ in claimed))
    return sum(done)


class Relay:
    """One loop's background relay: each claimed row is posted by a task of its own, at most
    PARALLEL at once and one per subscription, so a slow subscriber delays only its own
    events and every tick can claim and start what is due meanwhile."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.busy: dict[str, str] = {}  # row id -> subscription id, posting now
        self.tasks: set[asyncio.Task[None]] = set()
        self.claiming: asyncio.Task[None] | None = None
        self.pruned = float("-inf")

    def kick(self) -> None:
        if self.claiming is None or self.claiming.done():
            self.claiming = asyncio.get_running_loop().create_task(self._claim_and_start())

    async def _claim_and_start(self) -> None:
        try:
            now = utcnow()
            free = PARALLEL - len(self.tasks)
            claimed = await _claim(self.rt, now, free, frozenset(self.busy.values()))
            if claimed:
                sender = Sender(self.rt.settings)
                for row_id, sub_id in claimed:
                    self.busy[row_id] = sub_id
                    task = asyncio.get_running_loop().create_task(self._post(sender, row_id, now))
                    self.tasks.add(task)
            if time.monotonic() - self.pruned >= PRUNE_EVERY_S:
                self.pruned = time.monotonic()
                await retention.prune(self.rt, utcnow())
        except Exception:  # a background boundary: the next tick tries again
            log.exception("outbound webhook relay failed; retrying next tick")

    async def _post(self, sender: Sender, row_id: str, now: datetime) -> None:
        try:
            await _deliver(self.rt, sender, row_id, now, BACKOFF_S)
        except Exception:  # this row's lease runs out and another tick takes it again
            log.exception("outbound webhook delivery failed", extra={"delivery": row_id})
        finally:
            self.busy.pop(row_id, None)
            self.tasks.discard(asyncio.current_task())


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Relay]
_relays = weakref.WeakKeyDictionary()


def kick(rt: Runtime) -> None:
    """Claim what is due and post it in the background, so the scheduler's tick never waits
    on a subscriber; rows already being posted (a slow subscriber) are left to their tasks."""
    loop = asyncio.get_running_loop()
    found = _relays.get(loop)
    if found is None or found.rt is not rt:
        found = _relays[loop] = Relay(rt)
    found.kick()


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

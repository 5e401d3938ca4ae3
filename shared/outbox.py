"""The transactional outbox: dispatches are rows written with the state they follow from,
sent after commit (one call per stage), and re-sent by the relay if the process died in
between."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Outbox, utcnow
from shared.db.upsert import CHUNK
from shared.logs import get_logger, request_id_var
from shared.messages import Message
from shared.metering.invocation import current_invocation
from shared.ports import Dispatcher, Transactions

log = get_logger("quarry.outbox")


@dataclass(frozen=True)
class Pending:
    """A committed outbox row to send, with the request id that caused it."""

    id: int
    stage: str
    body: dict[str, Any]
    request_id: str | None = None


async def add(
    session: AsyncSession, run_id: str, stage: str, bodies: Sequence[dict[str, Any]]
) -> list[int]:
    """Stage `bodies` for dispatch to `stage` inside the caller's transaction."""
    return [p.id for p in await _add(session, run_id, stage, bodies, None)]


async def add_pending(
    session: AsyncSession,
    run_id: str,
    stage: str,
    messages: Sequence[Message],
    request_id: str | None = None,
) -> list[Pending]:
    """Stage `messages` for `stage` in the caller's transaction; send them after commit."""
    bodies = [m.model_dump(exclude_none=True) for m in messages]
    return await _add(session, run_id, stage, bodies, request_id)


async def _add(
    session: AsyncSession,
    run_id: str,
    stage: str,
    bodies: Sequence[dict[str, Any]],
    request_id: str | None,
) -> list[Pending]:
    rows = [Outbox(run_id=run_id, stage=stage, body=body) for body in bodies]
    session.add_all(rows)
    await session.flush()
    return [Pending(row.id, stage, row.body, request_id) for row in rows]


async def flush(db: Transactions, dispatcher: Dispatcher, ids: Sequence[int]) -> int:
    """Send the given committed rows and mark them sent; failures stay for the relay."""
    if not ids:
        return 0
    rows: list[Outbox] = []
    async with db.writer() as session:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            found = await session.scalars(
                select(Outbox).where(Outbox.id.in_(chunk), Outbox.sent_at.is_(None))
            )
            rows += found.all()
    rid = request_id_var.get()
    return await send(db, dispatcher, [Pending(r.id, r.stage, r.body, rid) for r in rows])


async def relay(db: Transactions, dispatcher: Dispatcher, older_than_s: float = 5.0) -> int:
    """Send rows left unsent for longer than `older_than_s` (the process died, or the
    queue was down). Receivers are idempotent, so a row sent twice changes nothing."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    async with db.writer() as session:
        rows = (
            await session.scalars(
                select(Outbox)
                .where(Outbox.sent_at.is_(None), Outbox.created_at < cutoff)
                .order_by(Outbox.id)
                .limit(500)
            )
        ).all()
    return await send(db, dispatcher, [Pending(r.id, r.stage, r.body) for r in rows])


async def send(db: Transactions, dispatcher: Dispatcher, rows: Sequence[Pending]) -> int:
    """Send committed rows, one call per stage (and request id), then mark the sent ones in
    one statement. A failed call leaves its rows to the relay and does not stop the rest."""
    groups: dict[tuple[str, str | None], list[Pending]] = defaultdict(list)
    for row in rows:
        groups[(row.stage, row.request_id)].append(row)
    sent: list[int] = []
    for (stage, request_id), group in groups.items():
        token = request_id_var.set(request_id) if request_id else None
        try:
            await dispatcher.send(stage, [row.body for row in group])
        except Exception:  # the relay retries; one bad send must not block the rest
            log.warning("dispatch to %s failed; the relay will retry", stage, exc_info=True)
            continue
        finally:
            if token is not None:
                request_id_var.reset(token)
        sent += [row.id for row in group]
        inv = current_invocation()
        if inv is not None:  # metering: the send requests, billed by their payloads' sizes
            inv.sent_sqs(
                [len(json.dumps(row.body, separators=(",", ":")).encode()) for row in group]
            )
    if sent:
        try:
            async with db.writer() as session:
                for start in range(0, len(sent), CHUNK):
                    chunk = sent[start : start + CHUNK]
                    await session.execute(
                        update(Outbox).where(Outbox.id.in_(chunk)).values(sent_at=utcnow())
                    )
        except Exception:  # sent, but not marked: the relay sends them again, harmlessly
            log.warning(
                "%d dispatches sent but not marked; the relay will repeat them",
                len(sent),
                exc_info=True,
            )
    return len(sent)

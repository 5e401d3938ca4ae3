"""The transactional outbox: dispatches are rows written with the state they follow from,
sent after commit, and re-sent by the relay if the process died in between."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Outbox, utcnow
from shared.logs import get_logger
from shared.ports import Database, Dispatcher

log = get_logger("quarry.outbox")


async def add(
    session: AsyncSession, run_id: str, stage: str, bodies: Sequence[dict[str, Any]]
) -> list[int]:
    """Stage `bodies` for dispatch to `stage` inside the caller's transaction."""
    rows = [Outbox(run_id=run_id, stage=stage, body=body) for body in bodies]
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


async def flush(db: Database, dispatcher: Dispatcher, ids: Sequence[int]) -> int:
    """Send the given committed rows and mark them sent; failures stay for the relay."""
    if not ids:
        return 0
    async with db.writer() as session:
        rows = (
            await session.scalars(
                select(Outbox).where(Outbox.id.in_(ids), Outbox.sent_at.is_(None))
            )
        ).all()
    return await _send(db, dispatcher, rows)


async def relay(db: Database, dispatcher: Dispatcher, older_than_s: float = 5.0) -> int:
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
    return await _send(db, dispatcher, rows)


async def _send(db: Database, dispatcher: Dispatcher, rows: Sequence[Outbox]) -> int:
    sent: list[int] = []
    for row in rows:
        try:
            await dispatcher.send(row.stage, [row.body])
        except Exception:  # the relay retries; one bad send must not block the rest
            log.warning("dispatch failed; the relay will retry", exc_info=True)
            continue
        sent.append(row.id)
    if sent:
        async with db.writer() as session:
            await session.execute(
                update(Outbox).where(Outbox.id.in_(sent)).values(sent_at=utcnow())
            )
    return len(sent)

"""How long webhook, idempotency and dashboard session records are kept: deleted in the
background, never before their guarantees run out (a delivery id dedups for at least 72
hours; a session row goes a day after it expired)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from shared.db.models import DashboardSession, IdempotencyKey, OutboundDelivery, WebhookDelivery
from shared.ports import Runtime

KEEP = timedelta(days=30)  # inbox entries and finished outbound deliveries
DEDUP_AT_LEAST = timedelta(hours=72)


async def prune(rt: Runtime, now: datetime, keep: timedelta = KEEP) -> int:
    """Delete expired idempotency keys, and inbox entries and finished outbound deliveries
    older than `keep`; returns how many rows went."""
    keep = max(keep, DEDUP_AT_LEAST)
    gone = 0
    async with rt.db.writer() as session:
        for stmt in (
            delete(IdempotencyKey).where(IdempotencyKey.expires_at < now),
            delete(DashboardSession).where(DashboardSession.expires_at < now - timedelta(days=1)),
            delete(WebhookDelivery).where(WebhookDelivery.created_at < now - keep),
            delete(OutboundDelivery).where(
                OutboundDelivery.state != "pending", OutboundDelivery.created_at < now - keep
            ),
        ):
            result = await session.execute(stmt)
            gone += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return gone

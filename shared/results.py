"""Per-stage results: one row per (run, document, stage), written as an upsert."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import metrics
from shared.db.models import StageResult, utcnow
from shared.db.upsert import upsert

STATUSES = ("succeeded", "failed", "skipped")


async def record(
    session: AsyncSession,
    run_id: str,
    document_id: str,
    stage: str,
    status: str,
    detail: str | None = None,
) -> None:
    """Write the outcome of `stage` for one document; writing it again changes nothing."""
    assert status in STATUSES, status
    await upsert(
        session,
        StageResult,
        {
            "run_id": run_id,
            "document_id": document_id,
            "stage": stage,
            "status": status,
            "detail": detail,
            "updated_at": utcnow(),
        },
        key=("run_id", "document_id", "stage"),
    )
    metrics.DOCUMENTS.labels(stage, status).inc()


async def outcome(session: AsyncSession, run_id: str, document_id: str, stage: str) -> str | None:
    """The recorded status of `stage` for this document in this run, if any: a message
    delivered again finds it and does nothing twice."""
    return await session.scalar(
        select(StageResult.status).where(
            StageResult.run_id == run_id,
            StageResult.document_id == document_id,
            StageResult.stage == stage,
        )
    )

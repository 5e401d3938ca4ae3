"""The overview's figures: runs in progress, throughput, error rate and work waiting per stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from shared.db.models import ACTIVE_STATES, Outbox, Run, StageResult, utcnow
from shared.ports import Runtime
from shared.repo import runs as run_reads
from shared.schemas import RunOut

WINDOW_MIN = 10


@dataclass(frozen=True)
class Overview:
    active: list[RunOut]
    docs_per_minute: float
    processed_last_hour: int
    failed_last_hour: int
    waiting: dict[str, int]

    @property
    def error_rate(self) -> float | None:
        if not self.processed_last_hour:
            return None
        return self.failed_last_hour / self.processed_last_hour


async def overview(rt: Runtime) -> Overview:
    """Documents per minute are those the first document stage handled in the last minutes;
    work waiting per stage is what its queue holds or was handed and not yet handled."""
    now = utcnow()
    flow = rt.flow
    async with rt.db.reader() as session:
        active_ids = (
            await session.scalars(
                select(Run.id)
                .where(Run.state.in_(ACTIVE_STATES))
                .order_by(Run.created_at.desc())
                .limit(20)
            )
        ).all()
        recent = await session.scalar(
            select(func.count())
            .select_from(StageResult)
            .where(
                StageResult.stage == flow.document_stages[0].name,
                StageResult.status == "succeeded",
                StageResult.updated_at >= now - timedelta(minutes=WINDOW_MIN),
            )
        )
        by_status = dict(
            (
                await session.execute(
                    select(StageResult.status, func.count())
                    .where(StageResult.updated_at >= now - timedelta(hours=1))
                    .group_by(StageResult.status)
                )
            ).all()
        )
        unsent = dict(
            (
                await session.execute(
                    select(Outbox.stage, func.count())
                    .where(Outbox.sent_at.is_(None))
                    .group_by(Outbox.stage)
                )
            ).all()
        )
        queued = await session.scalar(
            select(func.count()).select_from(Run).where(Run.state == "queued")
        )
    active = [await run_reads.get(rt, run_id) for run_id in active_ids]
    waiting = {stage: int(unsent.get(stage, 0)) for stage in flow.names}
    waiting[flow.first.name] = max(waiting[flow.first.name], int(queued or 0))
    for run in active:
        counts = {name: c.model_dump() for name, c in run.stages.items()}
        for stage, n in flow.waiting(run.discovered, counts).items():
            waiting[stage] += n
    return Overview(
        active=active,
        docs_per_minute=int(recent or 0) / WINDOW_MIN,
        processed_last_hour=sum(int(n) for n in by_status.values()),
        failed_last_hour=int(by_status.get("failed", 0)),
        waiting=waiting,
    )

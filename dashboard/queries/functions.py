"""What the database knows per stage function: documents through it, failures, dead letters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from shared.db.models import DeadLetter, StageResult
from shared.ports import Runtime


@dataclass(frozen=True)
class StageRecord:
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    dead_letters: int = 0
    last_error: str | None = None


async def stage_records(rt: Runtime) -> dict[str, StageRecord]:
    async with rt.db.reader() as session:
        counts = await session.execute(
            select(StageResult.stage, StageResult.status, func.count()).group_by(
                StageResult.stage, StageResult.status
            )
        )
        by_stage: dict[str, dict[str, int]] = {}
        for stage, status, n in counts:
            by_stage.setdefault(str(stage), {})[str(status)] = int(n)
        letters = dict(
            (
                await session.execute(
                    select(DeadLetter.stage, func.count()).group_by(DeadLetter.stage)
                )
            ).all()
        )
        last: dict[str, str] = {}
        for stage in set(by_stage) | set(letters):
            error = await session.scalar(
                select(DeadLetter.error)
                .where(DeadLetter.stage == stage)
                .order_by(DeadLetter.created_at.desc())
                .limit(1)
            )
            if error is None:
                error = await session.scalar(
                    select(StageResult.detail)
                    .where(StageResult.stage == stage, StageResult.status == "failed")
                    .order_by(StageResult.updated_at.desc())
                    .limit(1)
                )
            if error:
                last[stage] = str(error)
    return {
        stage: StageRecord(
            succeeded=by_stage.get(stage, {}).get("succeeded", 0),
            failed=by_stage.get(stage, {}).get("failed", 0),
            skipped=by_stage.get(stage, {}).get("skipped", 0),
            dead_letters=int(letters.get(stage, 0)),
            last_error=last.get(stage),
        )
        for stage in set(by_stage) | set(letters)
    }

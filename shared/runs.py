"""The run lifecycle: start_run() is the only way a run begins; settle() ends it exactly once."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.db.models import ACTIVE_STATES, Outbox, Run, Source, StageResult, utcnow
from shared.errors import ConflictError, NotFoundError
from shared.handlers.invocation import current_invocation
from shared.logs import get_logger, request_id_var
from shared.messages import DiscoverSource, RollupSource
from shared.metering.usage import usd
from shared.ports import Runtime
from shared.repo import costs
from shared.webhooks import outbound

log = get_logger("quarry.runs")

FIRST_STAGE = "discovery"
LAST_DOCUMENT_STAGE = "intelligence"
ON_FINAL_STAGE = "analytics"
TRIGGERS = ("api", "schedule", "webhook", "cli")


async def start_run(rt: Runtime, source_id: str, trigger: str = "api") -> Run:
    """Create a run and its first dispatch in one transaction, then hand it to the queue.

    If the queue is down the dispatch stays in the outbox and the relay sends it later,
    so a run that was accepted is never lost.
    """
    async with rt.db.writer() as session:
        cap = rt.settings.max_active_runs_per_source
        run, ids = await start_run_in(session, source_id, trigger, max_active=cap)
    await outbox.flush(rt.db, rt.dispatcher, ids)
    return run


async def start_run_in(
    session: AsyncSession, source_id: str, trigger: str, *, max_active: int
) -> tuple[Run, list[int]]:
    """start_run() inside the caller's transaction (a scheduler claiming its fire time
    commits the claim and the run together); the caller flushes the outbox rows.
    ConflictError (409) when the source already has `max_active` runs queued or running."""
    # The source's row lock (Postgres) makes concurrent starts of one source take turns.
    if await session.get(Source, source_id, with_for_update=True) is None:
        raise NotFoundError(f"source {source_id} does not exist")
    active = await session.scalar(
        select(func.count()).where(Run.source_id == source_id, Run.state.in_(ACTIVE_STATES))
    )
    if (active or 0) >= max_active:
        raise ConflictError(
            f"source {source_id} already has {active} runs in progress, the most allowed at "
            f"once (QUARRY_MAX_ACTIVE_RUNS_PER_SOURCE={max_active}); wait for one to finish "
            "or cancel one"
        )
    run = Run(source_id=source_id, trigger=trigger, state="queued", request_id=request_id_var.get())
    session.add(run)
    await session.flush()
    body = DiscoverSource(run_id=run.id, source_id=source_id).model_dump()
    ids = await outbox.add(session, run.id, FIRST_STAGE, [body])
    inv = current_invocation()
    if inv is not None:  # metering: the request that started the run is part of its cost
        inv.for_run(run.id)
    log.info("run started", extra={"run_id": run.id, "source_id": source_id, "trigger": trigger})
    return run, ids


async def mark_running(session: AsyncSession, run_id: str, discovered: int) -> None:
    """Record how many documents the run covers; queued → running."""
    await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.state.in_(ACTIVE_STATES))
        .values(state="running", discovered=discovered, started_at=utcnow())
    )


async def is_cancelled(session: AsyncSession, run_id: str) -> bool:
    state = await session.scalar(select(Run.state).where(Run.id == run_id))
    return state == "cancelled"


async def stop_over_budget(session: AsyncSession, run_id: str, budget_usd: float | None) -> bool:
    """Whether the run's estimated AWS cost has reached `budget_usd` (then the run fails, once,
    saying so, and its messages are skipped); always False without a budget."""
    if budget_usd is None:
        return False
    spent = await costs.aws_spent(session, run_id)
    if spent < budget_usd:
        return False
    error = (
        f"compute_budget_exceeded: the run's estimated AWS cost {usd(spent)} reached its "
        f"budget of {usd(budget_usd)} (QUARRY_RUN_COMPUTE_BUDGET_USD)"
    )
    if await fail(session, run_id, error):
        log.warning("run over its compute budget", extra={"run_id": run_id, "spent_usd": spent})
    return True


def _final_documents(run_id: str) -> tuple[object, ...]:
    """Documents that reached a final row: failed or skipped anywhere, or done at the end."""
    return (
        StageResult.run_id == run_id,
        StageResult.stage != FIRST_STAGE,
        or_(StageResult.status != "succeeded", StageResult.stage == LAST_DOCUMENT_STAGE),
    )


async def settle(rt: Runtime, run_id: str) -> str | None:
    """End the run if every document is final in every stage; returns the final state
    when this call made the transition. A conditional update makes it happen once, even
    when several workers finish their last documents at the same moment."""
    async with rt.db.writer() as session:
        run = await session.get(Run, run_id)
        if run is None or run.state not in ACTIVE_STATES or run.discovered is None:
            return None
        final = await session.scalar(
            select(func.count(func.distinct(StageResult.document_id))).where(
                *_final_documents(run_id)  # type: ignore[arg-type]
            )
        )
        if (final or 0) < run.discovered:
            return None
        # Skipped documents (unchanged since an earlier run, no main text) are not failures:
        # a run fails only when every document it covers failed somewhere.
        failed = await session.scalar(
            select(func.count(func.distinct(StageResult.document_id))).where(
                StageResult.run_id == run_id, StageResult.status == "failed"
            )
        )
        state = "failed" if run.discovered and (failed or 0) >= run.discovered else "succeeded"
        changed = await session.execute(
            update(Run)
            .where(Run.id == run_id, Run.state.in_(ACTIVE_STATES))
            .values(state=state, finished_at=utcnow())
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        body = RollupSource(run_id=run_id, source_id=run.source_id).model_dump()
        ids = await outbox.add(session, run_id, ON_FINAL_STAGE, [body])
        await outbound.enqueue(session, run_id, state)  # run events to subscribers
    log.info("run finished", extra={"run_id": run_id, "state": state})
    await outbox.flush(rt.db, rt.dispatcher, ids)
    return state


async def fail(session: AsyncSession, run_id: str, error: str) -> bool:
    """Fail the run as a whole (its source could not be read); once, like settle()."""
    changed = await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.state.in_(ACTIVE_STATES))
        .values(state="failed", error=error, finished_at=utcnow())
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False
    await outbound.enqueue(session, run_id, "failed")  # run events to subscribers
    return True


async def cancel(rt: Runtime, run_id: str) -> Run:
    """Cancel an active run: undispatched work is dropped, stages skip its messages."""
    async with rt.db.writer() as session:
        run = await session.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"run {run_id} does not exist")
        changed = await session.execute(
            update(Run)
            .where(Run.id == run_id, Run.state.in_(ACTIVE_STATES))
            .values(state="cancelled", finished_at=utcnow())
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            raise ConflictError(f"run {run_id} is already {run.state}; only active runs cancel")
        await session.execute(
            update(Outbox)
            .where(and_(Outbox.run_id == run_id, Outbox.sent_at.is_(None)))
            .values(sent_at=utcnow())
        )
        await session.refresh(run)
    return run

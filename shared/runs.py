"""The run lifecycle: start_run() is the only way a run begins, cancel() stops one. A run
becomes final in the stage adapter's transaction (shared.repo.progress), exactly once."""

from __future__ import annotations

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.db.models import ACTIVE_STATES, Outbox, Run, Source, utcnow
from shared.errors import ConflictError, NotFoundError
from shared.flow import FLOW, Flow
from shared.logs import get_logger, request_id_var
from shared.metering.invocation import current_invocation
from shared.ports import Runtime

log = get_logger("quarry.runs")

TRIGGERS = ("api", "schedule", "webhook", "cli")


async def start_run(
    rt: Runtime, source_id: str, trigger: str = "api", urls: list[str] | None = None
) -> Run:
    """Create a run and its first dispatch in one transaction, then hand it to the queue.

    If the queue is down the dispatch stays in the outbox and the relay sends it later,
    so a run that was accepted is never lost.
    """
    async with rt.db.writer() as session:
        cap = rt.settings.max_active_runs_per_source
        run, ids = await start_run_in(
            session, source_id, trigger, max_active=cap, urls=urls, flow=rt.flow
        )
    await outbox.flush(rt.db, rt.dispatcher, ids)
    return run


async def start_run_in(
    session: AsyncSession,
    source_id: str,
    trigger: str,
    *,
    max_active: int,
    urls: list[str] | None = None,
    flow: Flow = FLOW,
) -> tuple[Run, list[int]]:
    """start_run() inside the caller's transaction (a scheduler claiming its fire time
    commits the claim and the run together); the caller flushes the outbox rows.
    ConflictError (409) when the source already has `max_active` runs queued or running.

    With `urls` (a webhook whose payload names the pages), the run covers exactly those:
    the first stage's message carries them, and it seeds them instead of reading the source.
    """
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
    body = {"run_id": run.id, "source_id": source_id, **({} if urls is None else {"urls": urls})}
    message = flow.first.message.model_validate(body)
    body = message.model_dump(exclude_none=True)
    ids = await outbox.add(session, run.id, flow.first.name, [body])
    inv = current_invocation()
    if inv is not None:  # metering: the request that started the run is part of its cost
        inv.for_run(run.id)
    log.info("run started", extra={"run_id": run.id, "source_id": source_id, "trigger": trigger})
    return run, ids


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

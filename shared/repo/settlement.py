"""A run's settlement: its counters of final (and failed) documents, moved in the transaction
of the results that make documents final, and its final state, reached exactly once. O(1)
per message: no counting of result rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.db.models import ACTIVE_STATES, Run, utcnow
from shared.flow import FLOW, Flow
from shared.logs import get_logger
from shared.metering.usage import usd
from shared.repo import costs
from shared.webhooks import outbound

log = get_logger("quarry.runs")


@dataclass(frozen=True)
class Counted:
    state: str
    discovered: int | None
    final: int
    failed: int

    @property
    def ready(self) -> bool:
        """Every document the run covers is final, and the run is not yet."""
        return (
            self.state in ACTIVE_STATES
            and self.discovered is not None
            and self.final >= self.discovered
        )


async def count(session: AsyncSession, counts: Mapping[str, list[int]]) -> dict[str, Counted]:
    """Add each run's newly final (and failed) documents to its counters, runs in id order;
    a run with none to add is only read. Skipped documents are final but not failed: a run
    fails only when every document it covers failed somewhere."""
    out: dict[str, Counted] = {}
    for run_id, (final, failed) in sorted(counts.items()):
        columns = (Run.state, Run.discovered, Run.documents_final, Run.documents_failed)
        if final:
            stmt: Any = (
                update(Run)
                .where(Run.id == run_id)
                .values(
                    documents_final=Run.documents_final + final,
                    documents_failed=Run.documents_failed + failed,
                )
                .returning(*columns)
                .execution_options(synchronize_session=False)
            )
        else:
            stmt = select(*columns).where(Run.id == run_id)
        row = (await session.execute(stmt)).one_or_none()
        if row is not None:
            out[run_id] = Counted(row[0], row[1], int(row[2]), int(row[3]))
    return out


async def finish(
    session: AsyncSession,
    flow: Flow,
    run_id: str,
    state: str,
    *,
    error: str | None = None,
    rollup: bool = True,
) -> list[outbox.Pending] | None:
    """Make the run final in `state`, once: a conditional update, so of two transactions that
    both find it ready only one moves it. With `rollup`, the on_final stage's message is
    written with it (returned, to send after commit); subscribers' run events always are.
    None when the run was final already."""
    changed = await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.state.in_(ACTIVE_STATES))
        .values(state=state, error=error, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    sends: list[outbox.Pending] = []
    if rollup and flow.on_final is not None:
        source_id = await session.scalar(select(Run.source_id).where(Run.id == run_id))
        body = {"run_id": run_id, "source_id": source_id}
        message = flow.on_final.message.model_validate(body)
        sends = await outbox.add_pending(session, run_id, flow.on_final.name, [message])
    await outbound.enqueue(session, run_id, state)  # run events to subscribers
    return sends


async def stop_over_budget(
    session: AsyncSession, run_id: str, budget_usd: float | None, flow: Flow = FLOW
) -> bool:
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
    finished = await finish(session, flow, run_id, "failed", error=error, rollup=False)
    if finished is not None:
        log.warning("run over its compute budget", extra={"run_id": run_id, "spent_usd": spent})
    return True

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
from shared.flow import Flow
from shared.webhooks import outbound


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

"""The run's LLM budget, reserved atomically before each call and settled after it.

`reserve` is ONE conditional UPDATE (spent + estimate <= budget): on SQLite and Postgres
alike, concurrent calls cannot together pass the budget, whatever the interleaving. Each
reservation and settlement is its own short transaction, so no lock is held during a call.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Float, Integer, and_, func, literal, or_, select, update

from shared import metrics
from shared.db.models import LlmCall, Run
from shared.llm.base import BudgetExceeded
from shared.ports import Transactions


@dataclass(frozen=True)
class Budget:
    """Limits for a run; None is unlimited. The run's own columns win once set."""

    tokens: int | None = None
    usd: float | None = None


async def reserve(db: Transactions, run_id: str, tokens: int, usd: float, budget: Budget) -> None:
    """Count `tokens` and `usd` as spent by the run, or raise BudgetExceeded and count
    nothing when that would pass its budget (the run's own budget columns, once set, win
    over the configured one; with neither, the reservation always succeeds)."""
    limit_tokens = func.coalesce(Run.budget_tokens, literal(budget.tokens, Integer))
    limit_usd = func.coalesce(Run.budget_usd, literal(budget.usd, Float))
    stmt = (
        update(Run)
        .where(
            Run.id == run_id,
            or_(limit_tokens.is_(None), Run.spent_tokens + tokens <= limit_tokens),
            or_(limit_usd.is_(None), Run.spent_usd + usd <= limit_usd),
        )
        .values(
            spent_tokens=Run.spent_tokens + tokens,
            spent_usd=Run.spent_usd + usd,
            budget_tokens=limit_tokens,
            budget_usd=limit_usd,
        )
        .execution_options(synchronize_session=False)
    )
    async with db.writer() as session:
        changed = (await session.execute(stmt)).rowcount  # type: ignore[attr-defined]
        if changed == 1:
            return
        row = (
            await session.execute(
                select(Run.spent_tokens, Run.spent_usd, Run.budget_tokens, Run.budget_usd).where(
                    Run.id == run_id
                )
            )
        ).first()
    metrics.LLM_BUDGET_EXCEEDED.inc()
    if row is None:
        raise BudgetExceeded(f"run {run_id} does not exist, so it has no budget to spend")
    spent_t, spent_u, cap_t, cap_u = row
    cap_t = cap_t if cap_t is not None else budget.tokens
    cap_u = cap_u if cap_u is not None else budget.usd
    raise BudgetExceeded(
        f"budget_exceeded: the next LLM call (about {tokens} tokens, ${usd:.4f}) would pass "
        f"run {run_id}'s budget of {_limits(cap_t, cap_u)}; spent so far {spent_t} tokens, "
        f"${spent_u:.4f}"
    )


def _limits(tokens: int | None, usd: float | None) -> str:
    parts = ([f"{tokens} tokens"] if tokens is not None else []) + (
        [f"${usd:.4f}"] if usd is not None else []
    )
    return " and ".join(parts)


async def settle(
    db: Transactions, run_id: str, tokens: int, usd: float, calls: list[LlmCall]
) -> None:
    """Add the difference between what was reserved and what was spent (either sign) to the
    run, and record the calls, in one short transaction."""
    async with db.writer() as session:
        if tokens or usd:
            await session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(spent_tokens=Run.spent_tokens + tokens, spent_usd=Run.spent_usd + usd)
                .execution_options(synchronize_session=False)
            )
        session.add_all(calls)


async def spent(db: Transactions, run_id: str) -> tuple[int, float]:
    """What the run has spent (and holds reserved) so far: tokens and USD."""
    async with db.writer() as session:
        row = (
            await session.execute(
                select(Run.spent_tokens, Run.spent_usd).where(and_(Run.id == run_id))
            )
        ).first()
    return (0, 0.0) if row is None else (int(row[0]), float(row[1]))

"""A run's estimated AWS cost, from the per-run usage the invocation ledger wrote."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.cost_schemas import CostOut, FunctionCostOut, RunCostOut, UsageOut
from shared.db.models import RunUsage
from shared.metering.prices import AwsPrices, prices
from shared.metering.usage import Cost, Usage, estimate


def usage_of(row: RunUsage) -> Usage:
    return Usage(
        invocations=row.invocations,
        billed_ms=row.billed_ms,
        mb_ms=row.mb_ms,
        lambda_requests=row.lambda_requests,
        http_requests=row.http_requests,
        sqs_requests=row.sqs_requests,
        log_bytes=row.log_bytes,
    )


def run_cost(
    rows: Sequence[RunUsage],
    llm_usd: float,
    llm_tokens: int,
    at: AwsPrices,
    order: Sequence[str] = (),
) -> RunCostOut:
    """The run's cost from its usage rows (one per function), priced at `at` (pure): first
    the functions that started it (API, webhook, schedule; by name), then the stages in the
    flow's `order`."""
    rank = {name: i for i, name in enumerate(order)}
    ordered = sorted(rows, key=lambda r: (rank.get(r.function, -1), r.function))
    functions, total_usage, total = [], Usage(), Cost(llm=llm_usd)
    for row in ordered:
        usage = usage_of(row)
        cost = estimate(usage, at, row.architecture)
        functions.append(
            FunctionCostOut(
                function=row.function,
                memory_mb=row.memory_mb,
                architecture=row.architecture,
                usage=UsageOut.of(usage),
                cost=CostOut.of(cost),
            )
        )
        total_usage, total = total_usage + usage, total + cost
    return RunCostOut(
        region=at.region,
        prices_taken=at.taken,
        cost=CostOut.of(total),
        usage=UsageOut.of(total_usage),
        llm_tokens=llm_tokens,
        functions=functions,
    )


async def usage_rows(session: AsyncSession, run_id: str) -> Sequence[RunUsage]:
    return (await session.scalars(select(RunUsage).where(RunUsage.run_id == run_id))).all()


async def aws_spent(session: AsyncSession, run_id: str) -> float:
    """The run's estimated AWS cost so far (all but the LLM), as the ledger has written it."""
    at = prices()
    return sum(
        estimate(usage_of(r), at, r.architecture).total for r in await usage_rows(session, run_id)
    )


async def for_run(
    session: AsyncSession, run_id: str, llm_usd: float, llm_tokens: int, order: Sequence[str]
) -> RunCostOut:
    """The run's estimated cost, at the prices of the region in use (see `prices()`), its
    functions in `order` (the flow's stages)."""
    rows = await usage_rows(session, run_id)
    return run_cost(rows, llm_usd, llm_tokens, prices(), order)

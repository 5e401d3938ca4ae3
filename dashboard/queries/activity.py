"""What the invocation ledger says per function: invocations and p95 duration per minute over
the last hour, the last day's usage and estimated cost, and the latest invocations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from dashboard.figures import quantile
from shared.db.models import Invocation, InvocationMinute
from shared.metering.prices import AwsPrices
from shared.metering.usage import Cost, Usage, estimate
from shared.ports import Runtime

MINUTES = 60
DAY = timedelta(days=1)


@dataclass
class Activity:
    """One function's last hour, minute by minute, and its last day's cost."""

    minutes: list[datetime]
    invocations: list[int]
    p95_ms: list[float | None]
    errors: int = 0
    cold_starts: int = 0
    buckets: dict[float, int] = field(default_factory=dict)
    day: Usage = field(default_factory=Usage)
    memory_mb: int | None = None
    architecture: str = "x86_64"
    day_cost: Cost = field(default_factory=Cost)

    @property
    def hour_invocations(self) -> int:
        return sum(self.invocations)

    @property
    def hour_p95_ms(self) -> float | None:
        return p95(self.buckets)

    @property
    def per_1000(self) -> Cost:
        """The last day's cost per 1,000 invocations."""
        return self.day_cost.per(self.day.invocations)


def p95(counts: dict[float, int]) -> float | None:
    """The 95th percentile of durations from per-bucket counts (upper bounds in ms)."""
    cumulative, total = {}, 0
    for bound in sorted(counts):
        total += counts[bound]
        cumulative[bound] = float(total)
    return quantile(0.95, cumulative)


def hour_of(now: datetime) -> list[datetime]:
    """The last `MINUTES` whole minutes, ending with the current one."""
    end = now.replace(second=0, microsecond=0)
    return [end - timedelta(minutes=MINUTES - 1 - i) for i in range(MINUTES)]


def fold(
    minutes: list[datetime],
    hour: Iterable[tuple[str, datetime, float, int, int, int]],
    day: Iterable[tuple[str, float, float, float, float, float, float, int, str]],
    at: AwsPrices,
) -> dict[str, Activity]:
    """Activity per function from the hour's (function, minute, bucket, invocations, errors,
    cold starts) rows and the day's per-function sums (pure)."""
    index = {m: i for i, m in enumerate(minutes)}
    per_minute: dict[str, list[dict[float, int]]] = {}
    out: dict[str, Activity] = {}

    def of(function: str) -> Activity:
        if function not in out:
            out[function] = Activity(minutes, [0] * len(minutes), [None] * len(minutes))
            per_minute[function] = [{} for _ in minutes]
        return out[function]

    for function, minute, le_ms, invocations, errors, cold in hour:
        slot = index.get(minute.replace(second=0, microsecond=0))
        if slot is None:
            continue
        act = of(function)
        act.invocations[slot] += invocations
        act.errors += errors
        act.cold_starts += cold
        act.buckets[le_ms] = act.buckets.get(le_ms, 0) + invocations
        counts = per_minute[function][slot]
        counts[le_ms] = counts.get(le_ms, 0) + invocations
    for function, lists in per_minute.items():
        out[function].p95_ms = [p95(c) if c else None for c in lists]
    for function, n, billed, mb_ms, http, sqs, logs, memory, arch in day:
        act = of(function)
        # Postgres sums bigints as numeric (Decimal): the figures are floats from here on
        sums = [float(v) for v in (n, billed, mb_ms, http, sqs, logs)]
        act.day = Usage(sums[0], sums[1], sums[2], sums[0], sums[3], sums[4], sums[5])
        act.memory_mb, act.architecture = int(memory), str(arch)
        act.day_cost = estimate(act.day, at, act.architecture)
    return out


async def activity(rt: Runtime, now: datetime, at: AwsPrices) -> dict[str, Activity]:
    """Every function's activity as of `now`, from the ledger's per-minute sums."""
    minutes = hour_of(now)
    m = InvocationMinute
    async with rt.db.reader() as session:
        hour = await session.execute(
            select(m.function, m.minute, m.le_ms, m.invocations, m.errors, m.cold_starts).where(
                m.minute >= minutes[0]
            )
        )
        day = await session.execute(
            select(
                m.function,
                func.sum(m.invocations),
                func.sum(m.billed_ms),
                func.sum(m.mb_ms),
                func.sum(m.http_requests),
                func.sum(m.sqs_requests),
                func.sum(m.log_bytes),
                func.max(m.memory_mb),
                func.max(m.architecture),
            )
            .where(m.minute > now - DAY)
            .group_by(m.function)
        )
        return fold(minutes, hour.all(), day.all(), at)


async def recent(rt: Runtime, function: str, limit: int = 50) -> Sequence[Invocation]:
    """The function's latest invocations, newest first (the ledger keeps a day of them)."""
    async with rt.db.reader() as session:
        rows = await session.scalars(
            select(Invocation)
            .where(Invocation.function == function)
            .order_by(Invocation.started_at.desc())
            .limit(limit)
        )
        return rows.all()

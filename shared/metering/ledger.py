"""The invocation ledger: the invocation wrapper records each invocation into this process's
buffer (one append under a lock: all the hot path pays), and a flusher writes the buffer in
batches: the invocations themselves (kept a day), per-minute sums per function and duration
bucket, and per-run sums; it also counts their estimated cost in `quarry_cost_usd_total`. In
Lambda, which freezes after a handler returns, the handler flushes first.

Every process of the stack, the embedded platform and Lambda write the same tables, so every
dashboard instance reads the same figures.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared import metrics
from shared.db.models import Invocation, InvocationMinute, RunUsage, utcnow
from shared.db.upsert import accumulate
from shared.logs import get_logger
from shared.metering.prices import prices
from shared.metering.usage import Usage, estimate
from shared.ports import Database

log = get_logger("quarry.ledger")
FLUSH_EVERY_S = 1.0
KEEP_INVOCATIONS = timedelta(days=1)
KEEP_MINUTES = timedelta(days=8)
PRUNE_EVERY_S = 600.0
CAP = 50_000  # records held while the database is unreachable; the oldest go first
# The histogram's bounds in ms; the last is Lambda's longest timeout (15 minutes).
BOUNDS_MS = (*(b * 1000 for b in metrics.DURATION_BUCKETS), 900_000.0)


def bucket_of(duration_ms: float) -> float:
    """The upper bound of the duration bucket an invocation falls in."""
    return BOUNDS_MS[min(bisect.bisect_left(BOUNDS_MS, duration_ms), len(BOUNDS_MS) - 1)]


@dataclass(slots=True)
class Record:
    """One finished invocation: what it was, and the counts its cost follows from. `runs`
    pairs each run it worked for with its share (records of that run / all records);
    `started` is seconds since the epoch. Treated as a value once recorded."""

    id: str
    function: str
    trigger: str
    outcome: str
    started: float
    duration_ms: float
    billed_ms: int
    memory_mb: int
    architecture: str
    cold: bool
    request_id: str
    runs: tuple[tuple[str, float], ...]
    http_requests: int
    sqs_requests: int
    log_bytes: int
    counted: bool = False  # in quarry_cost_usd_total already (a failed write keeps it)

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(self.started, UTC)

    @property
    def usage(self) -> Usage:
        return Usage(
            invocations=1,
            billed_ms=self.billed_ms,
            mb_ms=self.billed_ms * self.memory_mb,
            lambda_requests=1,
            http_requests=self.http_requests,
            sqs_requests=self.sqs_requests,
            log_bytes=self.log_bytes,
        )


class Ledger:
    """This process's buffer of records not yet written."""

    def __init__(self, cap: int = CAP) -> None:
        self.cap = cap
        self.dropped = 0
        self._records: deque[Record] = deque(maxlen=cap)
        self._lock = threading.Lock()
        self._failing = False
        self._pruned = float("-inf")

    def record(self, rec: Record) -> None:
        """Keep `rec` for the next flush (the oldest record goes when the buffer is full)."""
        with self._lock:
            if len(self._records) == self.cap:
                self.dropped += 1
            self._records.append(rec)

    def pending(self) -> int:
        with self._lock:
            return len(self._records)

    def take(self) -> list[Record]:
        """Everything buffered, leaving the buffer empty."""
        with self._lock:
            taken, self._records = self._records, deque(maxlen=self.cap)
        return list(taken)

    def _restore(self, records: list[Record]) -> None:
        with self._lock:
            kept = [*records, *self._records]
            self.dropped += max(0, len(kept) - self.cap)
            self._records = deque(kept, maxlen=self.cap)  # keeps the newest

    async def flush(self, db: Database) -> int:
        """Write what is buffered in one transaction; on failure keep it for the next try
        and raise. Returns how many invocations were written."""
        records = self.take()
        count_cost([r for r in records if not r.counted])
        prune = time.monotonic() - self._pruned >= PRUNE_EVERY_S
        if not records and not prune:
            return 0
        try:
            async with db.writer() as session:
                await write(session, records)
                if prune:
                    await _prune(session, utcnow())
        except BaseException:
            self._restore(records)
            raise
        if prune:
            self._pruned = time.monotonic()
        return len(records)

    async def flush_quietly(self, db: Database) -> int:
        """`flush`, logging a failure once until a flush succeeds again (the records wait)."""
        try:
            written = await self.flush(db)
        except Exception as exc:  # the ledger must never fail an invocation or a worker
            if not self._failing:
                log.warning(
                    "invocation ledger not written, keeping %d records for the next try: %s",
                    self.pending(),
                    f"{type(exc).__name__}: {exc}",
                )
            self._failing = True
            return 0
        if self._failing:
            log.info("invocation ledger written again", extra={"records": written})
        self._failing = False
        return written


LEDGER = Ledger()


def count_cost(records: list[Record]) -> None:
    """Add the records' estimated cost to `quarry_cost_usd_total` by function and component,
    one increment per function and component."""
    at = prices()
    totals: dict[tuple[str, str], Usage] = {}
    for r in records:
        key = (r.function, r.architecture)
        totals[key] = totals.get(key, Usage()) + r.usage
        r.counted = True
    for (function, architecture), usage in totals.items():
        cost = estimate(usage, at, architecture)
        for component in ("compute", "requests", "queue", "logs"):
            metrics.COST.labels(function, component).inc(getattr(cost, component))


async def write(session: AsyncSession, records: list[Record]) -> None:
    """The records as invocation rows, and added to the per-minute and per-run sums."""
    if not records:
        return
    await session.execute(
        insert(Invocation),
        [
            {
                "id": r.id,
                "function": r.function,
                "trigger": r.trigger,
                "outcome": r.outcome,
                "started_at": r.started_at,
                "duration_ms": r.duration_ms,
                "billed_ms": r.billed_ms,
                "memory_mb": r.memory_mb,
                "architecture": r.architecture,
                "cold": r.cold,
                "request_id": r.request_id[:128],
                "run_ids": [run for run, _ in r.runs],
                "http_requests": r.http_requests,
                "sqs_requests": r.sqs_requests,
                "log_bytes": r.log_bytes,
            }
            for r in records
        ],
    )
    await accumulate(session, InvocationMinute, _minutes(records), ("function", "minute", "le_ms"))
    await accumulate(session, RunUsage, _runs(records), ("run_id", "function"))


def _minutes(records: list[Record]) -> list[dict[str, object]]:
    rows: dict[tuple[str, datetime, float], dict[str, object]] = {}
    for r in records:
        minute = r.started_at.replace(second=0, microsecond=0)
        key = (r.function, minute, bucket_of(r.duration_ms))
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "function": r.function,
                "minute": minute,
                "le_ms": key[2],
                **dict.fromkeys(("invocations", "errors", "cold_starts", "billed_ms", "mb_ms"), 0),
                **dict.fromkeys(("http_requests", "sqs_requests", "log_bytes"), 0),
                "duration_ms": 0.0,
            }
        _add(row, invocations=1, errors=int(r.outcome != "success"), cold_starts=int(r.cold))
        _add(row, duration_ms=r.duration_ms, billed_ms=r.billed_ms, mb_ms=r.billed_ms * r.memory_mb)
        _add(row, http_requests=r.http_requests, sqs_requests=r.sqs_requests)
        _add(row, log_bytes=r.log_bytes)
        row.update(memory_mb=r.memory_mb, architecture=r.architecture)
    return [rows[k] for k in sorted(rows)]  # one lock order for every writer


def _runs(records: list[Record]) -> list[dict[str, object]]:
    rows: dict[tuple[str, str], dict[str, object]] = {}
    for r in records:
        usage = r.usage
        for run_id, share in r.runs:
            part = usage.scaled(share)
            row = rows.setdefault(
                (run_id, r.function),
                {"run_id": run_id, "function": r.function, **_usage_columns(Usage())},
            )
            _add(row, **_usage_columns(part))
            row.update(memory_mb=r.memory_mb, architecture=r.architecture)
    return [rows[k] for k in sorted(rows)]


def _usage_columns(u: Usage) -> dict[str, float]:
    return {
        "invocations": u.invocations,
        "billed_ms": u.billed_ms,
        "mb_ms": u.mb_ms,
        "lambda_requests": u.lambda_requests,
        "http_requests": u.http_requests,
        "sqs_requests": u.sqs_requests,
        "log_bytes": u.log_bytes,
    }


def _add(row: dict[str, object], **values: float) -> None:
    for name, value in values.items():
        current = row[name]
        assert isinstance(current, int | float)
        row[name] = current + value


async def _prune(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(Invocation).where(Invocation.started_at < now - KEEP_INVOCATIONS))
    await session.execute(
        delete(InvocationMinute).where(InvocationMinute.minute < now - KEEP_MINUTES)
    )


@asynccontextmanager
async def flushing(db: Database, every_s: float = FLUSH_EVERY_S) -> AsyncIterator[None]:
    """Write the ledger every `every_s` while the block runs, and once more when it ends."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every_s)
            await LEDGER.flush_quietly(db)

    task = asyncio.create_task(loop(), name="ledger-flusher")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await LEDGER.flush_quietly(db)

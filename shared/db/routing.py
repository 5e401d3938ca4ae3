"""Read routing: reads go to the replica, unless it cannot show what the caller must see.

A write transaction on the primary leaves its commit position (an LSN) in `written_lsn`; a client
hands a position back as a token (`min_lsn`). A read is served by the replica only when
- nothing was written in this context (a request that wrote reads the primary),
- the replica has replayed at least `min_lsn`, checked on the connection the read then uses,
- its lag (refreshed at most once a second) is within the threshold, and
- it answered the last time we tried (an unreachable replica is skipped for `DOWN_S`).
Otherwise the read goes to the primary: a read never fails because the replica lags or is down.

Lag is the age of the last transaction the replica replayed, 0 when it has replayed all the WAL
it received: seconds, as the threshold is, and not fooled by an idle primary (whose last commit
may be old). Its blind spot: a replica cut off from its primary has replayed all it received
and reads as 0; tokens still hold then, since they are checked against the replay position.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.logs import get_logger
from shared.metrics import REPLICA_LAG

log = get_logger("quarry.db")
TOKEN = re.compile(r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$")
REFRESH_S = 1.0
DOWN_S = 5.0

# The insert position, not pg_current_wal_lsn() (the write position), which can trail a commit
# made with synchronous_commit=off; read after the commit, it is at or past the commit record.
WRITTEN_SQL = text("SELECT pg_current_wal_insert_lsn() - '0/0'")
CHECK_SQL = text(
    """
SELECT CASE
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
    ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
END,
pg_last_wal_replay_lsn() - '0/0'
"""
)


class Written:
    """The highest commit position written in one request. The context variable holds this
    object rather than the number, so writes made in child tasks are seen by the request.
    Unpositioned (`unpositioned_scope`), it only records that something was written."""

    __slots__ = ("lsn", "positioned")

    def __init__(self, positioned: bool = True) -> None:
        self.lsn: int | None = None
        self.positioned = positioned


written_lsn: ContextVar[Written | None] = ContextVar("written_lsn", default=None)
min_lsn: ContextVar[int | None] = ContextVar("min_lsn", default=None)


def parse_lsn(token: str) -> int | None:
    """The position of a token like `16/B374D848` (Postgres's pg_lsn text), else None."""
    if not TOKEN.fullmatch(token):  # not match(): `$` would let a trailing newline in
        return None
    high, low = token.split("/")
    return int(high, 16) << 32 | int(low, 16)


def format_lsn(lsn: int) -> str:
    """A position as Postgres writes a pg_lsn, the form `parse_lsn()` takes back."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def last_written() -> int | None:
    """The commit position of this context's latest write, None when it wrote nothing."""
    mark = written_lsn.get()
    return None if mark is None else mark.lsn


def note_written(lsn: int) -> None:
    """Remember a commit position in this context, keeping the highest."""
    mark = written_lsn.get()
    if mark is None:
        mark = Written()
        written_lsn.set(mark)
    mark.lsn = lsn if mark.lsn is None else max(mark.lsn, lsn)


@contextmanager
def request_scope(token: int | None) -> Iterator[Written]:
    """Fresh routing state for one request (or message): nothing written yet, the client's token;
    both restored when the block ends."""
    mark = Written()
    reset_written = written_lsn.set(mark)
    reset_min = min_lsn.set(token)
    try:
        yield mark
    finally:
        min_lsn.reset(reset_min)
        written_lsn.reset(reset_written)


@contextmanager
def unpositioned_scope() -> Iterator[None]:
    """A context that hands no commit position on (a stage worker's delivery: its messages
    carry no token). Its commits mark only that it wrote, so its later reads still go to the
    primary, without the query for the position each commit would cost (a round trip)."""
    reset = written_lsn.set(Written(positioned=False))
    try:
        yield
    finally:
        written_lsn.reset(reset)


class ReadRouter:
    """Decides per read between replica and primary; one per SqlDatabase, shared by its loops."""

    def __init__(self, max_lag_s: float) -> None:
        self.max_lag_s = max_lag_s
        self.lag: float | None = None  # None: unknown, treated as too far behind
        self._refreshed_at = float("-inf")
        self._down_until = float("-inf")
        self._down = False

    async def after_commit(self, session: AsyncSession) -> None:
        """Record the position of the transaction `session` just committed on the primary.
        Never raises: the write is done, and a caller told otherwise might repeat it."""
        mark = written_lsn.get()
        if mark is not None and not mark.positioned:
            mark.lsn = mark.lsn or 0  # written; where does not matter here
            return
        try:
            lsn = await session.scalar(WRITTEN_SQL)
        except (DBAPIError, OSError) as exc:
            log.warning("commit position unknown", extra={"error": f"{type(exc).__name__}"})
            return
        if lsn is not None:
            note_written(int(lsn))

    async def replica(self, engine: AsyncEngine) -> AsyncSession | None:
        """A session on the replica `engine`, connected and checked, or None for the primary."""
        if last_written() is not None:
            return None
        now = time.monotonic()
        if now < self._down_until:
            return None
        stale = now - self._refreshed_at >= REFRESH_S
        if not stale and not self._lag_ok():
            return None
        needed = min_lsn.get()
        session = AsyncSession(engine, expire_on_commit=False)
        try:
            await session.connection()  # the pool's pre-ping finds a replica gone away
            replayed = None
            if stale or needed is not None:
                self._refreshed_at = now  # one refresh at a time, even while this one waits
                lag, replayed = (await session.execute(CHECK_SQL)).one()
                self._set_lag(lag)
        except (DBAPIError, OSError) as exc:
            await _close(session)
            self._mark_down(exc)
            return None
        self._down = False
        if self._lag_ok() and (needed is None or (replayed is not None and replayed >= needed)):
            return session
        await _close(session)
        return None

    def _lag_ok(self) -> bool:
        return self.lag is not None and self.lag <= self.max_lag_s

    def _set_lag(self, lag: Any) -> None:
        self.lag = None if lag is None else max(0.0, float(lag))
        REPLICA_LAG.set(float("inf") if self.lag is None else self.lag)

    def _mark_down(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + DOWN_S
        self.lag = None
        REPLICA_LAG.set(float("inf"))
        if not self._down:
            self._down = True
            log.warning(
                "read replica unreachable; reads go to the primary",
                extra={"error": f"{type(exc).__name__}: {exc}", "retry_s": DOWN_S},
            )


async def _close(session: AsyncSession) -> None:
    with suppress(DBAPIError, OSError):
        await session.close()

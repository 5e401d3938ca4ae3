"""Engines per event loop for the writer and the reader, with SQLite tuned for concurrent use."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from shared.db.routing import ReadRouter
from shared.logs import get_logger

sql_log = get_logger("quarry.sql")

# A replica that accepts connections but does not answer must not hold reads up for long.
REPLICA_CONNECT_TIMEOUT_S = 2


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _statement_logger(role: str) -> Any:
    """A before_cursor_execute hook logging each statement (at DEBUG, on `quarry.sql`) with the
    role it ran on; the JSON formatter adds the request id and function of the invocation.
    A log line rather than a SQL comment, so Postgres keeps reusing its prepared statements."""

    def log_statement(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool
    ) -> None:
        if sql_log.isEnabledFor(logging.DEBUG):
            text = " ".join(statement.split())
            sql_log.debug(text[:300], extra={"role": role, "executemany": many})

    return log_statement


def make_engine(
    url: str,
    role: str = "primary",
    *,
    pooled: bool = True,
    pool_size: int | None = None,
    **connect_args: Any,
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys on every connection.
    `role` (primary or replica) names the server in statement logs; `pooled=False` opens a
    connection per session (Lambda); `pool_size` pools exactly that many, no overflow (a
    process that knows how many callers it runs at once sizes its pool to them)."""
    # Unpooled in Lambda: each execution environment is one caller, and idle pooled
    # connections of thousands of environments would exhaust Postgres (RDS Proxy pools them).
    pooling: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if pooled and pool_size is not None:
        pooling.update(pool_size=pool_size, max_overflow=0)
    engine = create_async_engine(
        url, pool_pre_ping=not url.startswith("sqlite"), connect_args=connect_args, **pooling
    )
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "before_cursor_execute", _statement_logger(role))
    return engine


def sync_url(url: str) -> str:
    """The synchronous driver URL for the same database (migrations run synchronously)."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    return parsed.render_as_string(hide_password=False)


class SqlDatabase:
    """Writer and reader engines, one pair per event loop, since async connections are
    bound to the loop that opened them (each emulated execution environment has its own).

    With a distinct Postgres reader, reads are routed (see `shared.db.routing`): to the replica
    unless it lags more than `replica_max_lag_s`, is down, or has not yet replayed a write the
    caller must see; otherwise to the primary.
    """

    def __init__(
        self,
        writer_url: str,
        reader_url: str | None = None,
        *,
        replica_max_lag_s: float = 5.0,
        pooled: bool = True,
        pool_size: int | None = None,
    ) -> None:
        self.pooled = pooled
        self.pool_size = pool_size
        self.writer_url = writer_url
        self.reader_url = reader_url or writer_url
        routed = self.reader_url != writer_url and all(
            make_url(url).get_backend_name() == "postgresql"
            for url in (writer_url, self.reader_url)
        )
        self.router = ReadRouter(replica_max_lag_s) if routed else None
        self._engines: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[AsyncEngine, AsyncEngine]
        ] = weakref.WeakKeyDictionary()

    def _pair(self) -> tuple[AsyncEngine, AsyncEngine]:
        loop = asyncio.get_running_loop()
        pair = self._engines.get(loop)
        if pair is None:
            pooled, size = self.pooled, self.pool_size
            writer = make_engine(self.writer_url, pooled=pooled, pool_size=size)
            if self.reader_url == self.writer_url:
                reader = writer
            elif self.router is not None:
                reader = make_engine(
                    self.reader_url,
                    "replica",
                    pooled=pooled,
                    pool_size=size,
                    connect_timeout=REPLICA_CONNECT_TIMEOUT_S,
                )
            else:
                reader = make_engine(self.reader_url, "replica", pooled=pooled, pool_size=size)
            pair = (writer, reader)
            self._engines[loop] = pair
        return pair

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[AsyncSession]:
        """A session on the primary in one transaction, committed when the block ends; with
        a replica, the commit's position is then noted so this context reads its own writes."""
        session = AsyncSession(self._pair()[0], expire_on_commit=False)
        async with session:
            async with session.begin():
                yield session
            if self.router is not None:
                await self.router.after_commit(session)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A read-only session on the replica when it can serve this read, else the primary
        (the writer, too, when no replica is configured)."""
        writer, reader = self._pair()
        routed = None if self.router is None else await self.router.replica(reader)
        if routed is not None:
            session = routed
        else:
            session = AsyncSession(
                reader if self.router is None else writer, expire_on_commit=False
            )
        async with session:
            yield session

    def checked_out(self) -> int:
        """Connections this process holds right now, over every loop's engines (any thread
        may ask: it reads the pools' counters)."""
        engines = {engine for pair in list(self._engines.values()) for engine in pair}
        return sum(int(getattr(e.pool, "checkedout", lambda: 0)()) for e in engines)

    async def dispose(self) -> None:
        """Close the engines of every loop: this one's directly, idle ones (the gateway's
        execution environments) by running their loop briefly on a helper thread."""
        here = asyncio.get_running_loop()
        for loop, pair in list(self._engines.items()):
            for engine in set(pair):
                if loop is here:
                    await engine.dispose()
                elif not loop.is_closed() and not loop.is_running():
                    await asyncio.to_thread(loop.run_until_complete, engine.dispose())
        self._engines.clear()

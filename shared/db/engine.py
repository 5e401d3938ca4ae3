"""Engines per event loop for the writer and the reader, with SQLite tuned for concurrent use
and Postgres through asyncpg (or psycopg) with no server-side prepared statements left behind."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from shared.config import PgDriver
from shared.db.routing import ReadRouter
from shared.db.urls import async_url, is_postgres
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
    A log line rather than a SQL comment, so a statement's text is the same in every request."""

    def log_statement(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool
    ) -> None:
        if sql_log.isEnabledFor(logging.DEBUG):
            text = " ".join(statement.split())
            sql_log.debug(text[:300], extra={"role": role, "executemany": many})

    return log_statement


def pg_connect_args(driver: PgDriver, connect_timeout_s: float | None = None) -> dict[str, Any]:
    """What each Postgres connection is opened with, so that it works through RDS Proxy (and
    any transaction pooler): no named prepared statement is ever left on a server connection,
    since a proxy hands that connection to other clients between transactions and pins a client
    that leaves session state behind (docs/architecture.md, "Postgres drivers"). asyncpg then
    sends each statement unnamed (parse, bind, execute); psycopg never prepares one by name."""
    if driver == "asyncpg":
        args: dict[str, Any] = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
        if connect_timeout_s is not None:
            args["timeout"] = connect_timeout_s
        return args
    args = {"prepare_threshold": None}
    if connect_timeout_s is not None:
        args["connect_timeout"] = max(1, round(connect_timeout_s))
    return args


def _connect_failure_as_operational(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """asyncpg lets the socket's errors through when it cannot connect (refused, reset, an
    unreachable or unknown host, "Multiple exceptions" for a name with several addresses, its
    connect timeout): here they become the driver's OperationalError with SQLSTATE 08001
    (unable to establish a connection), as psycopg reports them, so that the outage check
    (shared/outages.py) need not treat every OSError of any peer as the database's."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        error = dialect.loaded_dbapi.OperationalError(f"cannot connect to the database: {exc}")
        error.sqlstate = "08001"
        raise error from exc


def make_engine(
    url: str,
    role: str = "primary",
    *,
    driver: PgDriver = "asyncpg",
    pooled: bool = True,
    pool_size: int | None = None,
    connect_timeout_s: float | None = None,
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys on every connection,
    Postgres `driver` with `pg_connect_args`. `role` (primary or replica) names the server in
    statement logs; `pooled=False` opens a connection per session (Lambda); `pool_size` pools
    exactly that many, no overflow (a process that knows how many callers it runs at once
    sizes its pool to them)."""
    # Unpooled in Lambda: each execution environment is one caller, and idle pooled
    # connections of thousands of environments would exhaust Postgres (RDS Proxy pools them).
    pooling: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if pooled and pool_size is not None:
        pooling.update(pool_size=pool_size, max_overflow=0)
    postgres = is_postgres(url)
    engine = create_async_engine(
        async_url(url, driver),
        pool_pre_ping=postgres,
        connect_args=pg_connect_args(driver, connect_timeout_s) if postgres else {},
        **pooling,
    )
    if not postgres:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    elif driver == "asyncpg":
        event.listen(engine.sync_engine, "do_connect", _connect_failure_as_operational)
    event.listen(engine.sync_engine, "before_cursor_execute", _statement_logger(role))
    return engine


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
        driver: PgDriver = "asyncpg",
    ) -> None:
        self.driver = driver
        self.pooled = pooled
        self.pool_size = pool_size
        self.writer_url = writer_url
        self.reader_url = reader_url or writer_url
        routed = self.reader_url != writer_url and all(
            is_postgres(url) for url in (writer_url, self.reader_url)
        )
        self.router = ReadRouter(replica_max_lag_s) if routed else None
        self._engines: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[AsyncEngine, AsyncEngine]
        ] = weakref.WeakKeyDictionary()

    def _pair(self) -> tuple[AsyncEngine, AsyncEngine]:
        loop = asyncio.get_running_loop()
        pair = self._engines.get(loop)
        if pair is None:
            writer = self._engine(self.writer_url, "primary")
            if self.reader_url == self.writer_url:
                reader = writer
            else:
                timeout = REPLICA_CONNECT_TIMEOUT_S if self.router is not None else None
                reader = self._engine(self.reader_url, "replica", timeout)
            pair = (writer, reader)
            self._engines[loop] = pair
        return pair

    def _engine(self, url: str, role: str, connect_timeout_s: float | None = None) -> AsyncEngine:
        return make_engine(
            url,
            role,
            driver=self.driver,
            pooled=self.pooled,
            pool_size=self.pool_size,
            connect_timeout_s=connect_timeout_s,
        )

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

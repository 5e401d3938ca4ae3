"""Reads from the replica, writes to the primary, and a client always reads its own writes."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from emulator.stack.services.ports import free_port
from emulator.stack.services.postgres import PostgresServer
from emulator.stack.services.replica import PostgresReplica
from shared.db import routing
from shared.db.engine import SqlDatabase
from tests.stack.test_services import execute, fetch, running, scratch, spawn, stop, wait_ready

pytestmark = pytest.mark.stack

T = TypeVar("T")
PAIRS = 1000
STREAMING_PAIRS = 300
WAIT_S = 60  # for the replica to replay or pause: generous for a loaded machine


@dataclass
class Pair:
    primary: PostgresServer
    replica: PostgresReplica
    stop_replica: Callable[[], None]


@asynccontextmanager
async def primary_and_replica() -> AsyncIterator[Pair]:
    """A primary and its streaming replica with a `notes` table replayed on both; the replica can
    be stopped early (SIGINT, as the supervisor does), and both always stop at the end."""
    with scratch() as base:
        primary = PostgresServer(base / "primary", free_port(), fsync=False)
        replica = PostgresReplica(base / "replica", free_port(), primary)
        primary.prepare()
        async with running(primary, base / "primary.log"):
            replica.prepare()
            log = base / "replica.log"
            with log.open("ab") as out:
                argv = replica.argv()
                proc = spawn(argv, out)
                try:
                    await wait_ready(replica, proc, " ".join(argv), Path(log))
                    await execute(primary.url, "CREATE TABLE notes (id serial PRIMARY KEY, n int)")
                    await wait_visible(replica, "SELECT count(*) FROM notes")
                    yield Pair(primary, replica, lambda: stop(proc, signal.SIGINT, "replica"))
                finally:
                    stop(proc, signal.SIGINT, " ".join(argv))


async def wait_visible(replica: PostgresReplica, query: str) -> None:
    """Wait until the replica returns a row for `query` (it has replayed that far)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            if await fetch(replica.url, query):
                return
        except psycopg.errors.UndefinedTable:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"replica returned nothing for {query!r} in {WAIT_S} s")
        await asyncio.sleep(0.02)


async def pause_replay(replica: PostgresReplica) -> None:
    await execute(replica.url, "SELECT pg_wal_replay_pause()")
    query = "SELECT pg_get_wal_replay_pause_state()"
    deadline = time.monotonic() + WAIT_S
    while await fetch(replica.url, query) != [("paused",)]:
        if time.monotonic() > deadline:
            pytest.fail(f"replica replay did not pause in {WAIT_S} s")
        await asyncio.sleep(0.02)


async def fresh(step: Callable[[], Awaitable[T]], token: int | None = None) -> T:
    """Run `step` as a new request would: an empty context, with only the client's token."""

    async def scoped() -> T:
        with routing.request_scope(token):
            return await step()

    return await asyncio.create_task(scoped(), context=contextvars.Context())


async def write(db: SqlDatabase, n: int) -> None:
    async with db.writer() as session:
        await session.execute(text("INSERT INTO notes (n) VALUES (:n)"), {"n": n})


async def read(db: SqlDatabase, n: int) -> tuple[bool, bool]:
    """Whether the read saw note `n`, and whether the replica served it."""
    async with db.reader() as session:
        query = "SELECT EXISTS (SELECT 1 FROM notes WHERE n = :n), pg_is_in_recovery()"
        seen, on_replica = (await session.execute(text(query), {"n": n})).one()
    return bool(seen), bool(on_replica)


async def write_token(db: SqlDatabase, n: int) -> int:
    await write(db, n)
    token = routing.last_written()
    assert token is not None
    return token


def lag_gauge() -> float | None:
    return REGISTRY.get_sample_value("quarry_replica_lag_seconds")


async def test_reads_see_writes_though_the_replica_lags_and_survive_it_stopping(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with primary_and_replica() as pg:
        db = SqlDatabase(pg.primary.url, pg.replica.url, replica_max_lag_s=60)
        try:
            assert await fresh(lambda: read(db, 0)) == (False, True)  # reads go to the replica
            await pause_replay(pg.replica)

            # (a) read-your-writes in the writing context: the primary serves it.
            async def write_then_read() -> tuple[int, tuple[bool, bool]]:
                token = await write_token(db, 1)
                return token, await read(db, 1)

            token, seen = await fresh(write_then_read)
            assert seen == (True, False)

            # (b) a later request with the token sees it too; one without reads the stale replica.
            assert await fresh(lambda: read(db, 1), token) == (True, False)
            assert await fresh(lambda: read(db, 1)) == (False, True)

            # (c) many clients, each writing in one request and reading in the next.
            started = time.monotonic()
            seen_count = 0
            for n in range(2, 2 + PAIRS):
                token = await fresh(partial(write_token, db, n))
                seen_count += (await fresh(partial(read, db, n), token))[0]
            elapsed = time.monotonic() - started
            assert seen_count == PAIRS
            print(f"\n{PAIRS} write-then-read pairs with replay paused: {elapsed:.2f} s")

            # (d) once replay resumes, the replica catches up and serves untokened reads.
            await execute(pg.replica.url, "SELECT pg_wal_replay_resume()")
            last = 1 + PAIRS
            deadline = time.monotonic() + WAIT_S
            while (got := await fresh(lambda: read(db, last))) != (True, True):
                assert time.monotonic() < deadline, f"replica never served note {last}: {got}"
                await asyncio.sleep(0.05)
            assert await fresh(lambda: read(db, last), token) == (True, True)
            lag = lag_gauge()
            assert lag is not None
            assert lag < 1.0

            # While streaming, a tokened read is served by whichever server has the write: the
            # primary just after it, the replica once it has replayed it. (Not always: a token
            # that is the first position of a WAL page is reached only with the next record.)
            served = {True: 0, False: 0}
            for n in range(2 + PAIRS, 2 + PAIRS + STREAMING_PAIRS):
                token = await fresh(partial(write_token, db, n))
                if n % 30 == 0:
                    await wait_visible(pg.replica, f"SELECT 1 FROM notes WHERE n = {n}")
                seen, on_replica = await fresh(partial(read, db, n), token)
                assert seen, f"note {n} not seen (replica: {on_replica})"
                served[on_replica] += 1
            print(f"{STREAMING_PAIRS} pairs while streaming, served by replica/primary: {served}")
            assert served[True] >= STREAMING_PAIRS // 30 // 2
            last = 1 + PAIRS + STREAMING_PAIRS

            # (e) the replica goes away: reads fall back to the primary, with one warning.
            pg.stop_replica()
            with caplog.at_level(logging.WARNING, logger="quarry.db"):
                for _ in range(5):
                    assert await fresh(lambda: read(db, last)) == (True, False)
            warnings = [r for r in caplog.records if r.name == "quarry.db"]
            assert [r.getMessage() for r in warnings] == [
                "read replica unreachable; reads go to the primary"
            ]
            assert lag_gauge() == float("inf")
        finally:
            await db.dispose()


async def test_reads_go_to_the_primary_while_the_replica_lags_past_the_threshold() -> None:
    async with primary_and_replica() as pg:
        db = SqlDatabase(pg.primary.url, pg.replica.url, replica_max_lag_s=0.5)
        try:
            assert await fresh(lambda: read(db, 1)) == (False, True)
            await pause_replay(pg.replica)
            await fresh(lambda: write(db, 1))
            # Past the threshold (0.5 s) and the once-a-second refresh of the lag, reads go to
            # the primary: awaited, since a loaded machine may run the refresh late.
            deadline = time.monotonic() + WAIT_S
            while (got := await fresh(lambda: read(db, 1))) != (True, False):
                assert time.monotonic() < deadline, f"reads still on the replica: {got}"
                await asyncio.sleep(0.1)
            lag = lag_gauge()
            assert lag is not None
            assert lag > 0.5
        finally:
            await execute(pg.replica.url, "SELECT pg_wal_replay_resume()")
            await db.dispose()

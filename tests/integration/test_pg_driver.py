"""The application's Postgres engines through each driver (asyncpg, the default, and psycopg):
no named prepared statement left on a server connection (what RDS Proxy needs), a commit's
position noted for read-your-writes, and a server or connection gone classified as an outage."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from emulator.stack.services.ports import free_port
from shared.config import PgDriver
from shared.db import routing
from shared.db.engine import SqlDatabase
from shared.db.urls import libpq_url
from shared.outages import as_unavailable

pytest_plugins = ("tests.integration.pg",)
DRIVERS: tuple[PgDriver, ...] = ("asyncpg", "psycopg")
REPEATS = 12  # past psycopg's default prepare_threshold (5): it would name the statement


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> PgDriver:
    value: PgDriver = request.param
    return value


async def test_pg_driver_leaves_no_prepared_statement_on_the_connection(
    postgres_url: str, driver: PgDriver
) -> None:
    db = SqlDatabase(postgres_url, driver=driver, pool_size=1)
    try:
        async with db.writer() as session:
            await session.execute(text("CREATE TABLE notes (id serial PRIMARY KEY, n int)"))
        async with db.writer() as session:
            for n in range(REPEATS):
                await session.execute(text("INSERT INTO notes (n) VALUES (:n)"), {"n": n})
        async with db.reader() as session:  # the one pooled connection every statement used
            for n in range(REPEATS):
                seen = await session.scalar(
                    text("SELECT count(*) FROM notes WHERE n <= :n"), {"n": n}
                )
                assert seen == n + 1
            named = await session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
            assert session.get_bind().dialect.driver == driver
        assert named == 0
    finally:
        await db.dispose()


async def test_pg_driver_notes_the_commit_position_of_a_write(
    postgres_url: str, driver: PgDriver
) -> None:
    db = SqlDatabase(postgres_url, driver=driver)
    db.router = routing.ReadRouter(max_lag_s=5.0)  # as with a replica: commits are noted
    try:
        with psycopg.connect(libpq_url(postgres_url), autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'").fetchone()
        assert row is not None
        before = int(row[0])
        with routing.request_scope(None) as mark:
            async with db.writer() as session:
                await session.execute(text("CREATE TABLE notes (n int)"))
            written = mark.lsn
        with psycopg.connect(libpq_url(postgres_url), autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'").fetchone()
        assert row is not None
        assert isinstance(written, int)
        assert before < written <= int(row[0])
        assert routing.parse_lsn(routing.format_lsn(written)) == written
    finally:
        await db.dispose()


async def test_pg_driver_server_errors_of_the_outage_classes_are_503_others_are_not(
    postgres_url: str, driver: PgDriver
) -> None:
    db = SqlDatabase(postgres_url, driver=driver)
    caught: dict[str, BaseException] = {}
    try:
        for state in ("57P03", "08006", "53300", "42P01"):
            raise_it = f"DO $$ BEGIN RAISE EXCEPTION 'quarry' USING ERRCODE = '{state}'; END $$"
            try:
                async with db.writer() as session:
                    await session.execute(text(raise_it))
            except Exception as exc:
                caught[state] = exc
    finally:
        await db.dispose()
    assert sorted(caught) == ["08006", "42P01", "53300", "57P03"]
    assert {state: as_unavailable(exc) is not None for state, exc in caught.items()} == {
        "57P03": True,
        "08006": True,
        "53300": True,
        "42P01": False,
    }


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])  # one address; maybe several
async def test_pg_driver_refused_connection_is_an_outage(driver: PgDriver, host: str) -> None:
    gone = SqlDatabase(f"postgresql://quarry@{host}:{free_port()}/quarry", driver=driver)
    try:
        with pytest.raises(Exception) as raised:  # noqa: PT011 - the driver decides the class
            async with gone.reader() as session:
                await session.execute(text("SELECT 1"))
    finally:
        await gone.dispose()
    outage = as_unavailable(raised.value)
    assert outage is not None, f"{type(raised.value).__name__}: {raised.value}"
    assert outage.status == 503

"""One Alembic history on SQLite and Postgres: empty → head, models agree, upgrades idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool, select, text

from shared.db.engine import SqlDatabase
from shared.db.migrate import current, head, upgrade
from shared.db.models import Base, Source
from shared.db.urls import sync_url

pytest_plugins = ("tests.integration.pg",)

EXPECTED_TABLES = {*Base.metadata.tables, "alembic_version"}


def table_names(url: str) -> set[str]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def differences(url: str) -> list[Any]:
    """What autogenerate would write to make the migrated schema match the models."""
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def check_upgrade_to_head(url: str) -> None:
    assert current(url) is None
    assert table_names(url) == set()
    upgrade(url)
    assert current(url) == head()
    assert table_names(url) == EXPECTED_TABLES


def test_migrations_upgrade_empty_sqlite_to_head(sqlite_url: str) -> None:
    check_upgrade_to_head(sqlite_url)


def test_migrations_upgrade_empty_postgres_to_head(postgres_url: str) -> None:
    check_upgrade_to_head(postgres_url)


def test_models_and_migrations_agree_sqlite(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    assert differences(sqlite_url) == []


def test_models_and_migrations_agree_postgres(postgres_url: str) -> None:
    upgrade(postgres_url)
    assert differences(postgres_url) == []


def test_models_and_migrations_drift_is_reported_postgres(postgres_url: str) -> None:
    """The comparison above is not vacuous: a schema that lost its time zone is caught."""
    upgrade(postgres_url)
    engine = create_engine(sync_url(postgres_url), poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE sources ALTER COLUMN created_at TYPE timestamp"))
    engine.dispose()
    (change,) = differences(postgres_url)  # column changes come grouped per column
    assert [(op[0], op[2], op[3]) for op in change] == [("modify_type", "sources", "created_at")]


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_migrations_are_idempotent(engine: str, request: pytest.FixtureRequest) -> None:
    url: str = request.getfixturevalue(f"{engine}_url")
    upgrade(url)
    upgrade(url)
    assert current(url) == head()
    assert table_names(url) == EXPECTED_TABLES


async def test_database_round_trip_on_postgres(postgres_url: str) -> None:
    upgrade(postgres_url)
    db = SqlDatabase(postgres_url)
    try:
        async with db.writer() as session:
            session.add(Source(id="s1", name="Example", kind="sitemap", url="https://example.com"))
        async with db.reader() as session:
            source = (await session.execute(select(Source))).scalar_one()
    finally:
        await db.dispose()
    assert (source.id, source.name, source.kind, source.url, source.urls) == (
        "s1",
        "Example",
        "sitemap",
        "https://example.com",
        [],
    )
    assert source.created_at.utcoffset() == timedelta(0)

"""A private Postgres for the integration tests: one server per session, one database per test
(empty, or a copy of a template migrated once per session).

Test modules that need it declare `pytest_plugins = ("tests.integration.pg",)`.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.stack.services.ports import free_port
from emulator.stack.services.postgres import PostgresServer
from shared.db.migrate import upgrade


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A Postgres started on a free loopback port (never 5432), stopped even if tests fail."""
    # Not under pytest's tmp dir: that is private to root, and Postgres runs as another user.
    base = Path(tempfile.mkdtemp(prefix="quarry-pg-"))
    base.chmod(0o711)
    server = PostgresServer(base / "data", free_port(), fsync=False)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's server, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield postgres.create_database(name)
    postgres.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of an empty SQLite database file (the async driver, as the platform uses)."""
    return f"sqlite+aiosqlite:///{tmp_path}/quarry.db"


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresServer) -> str:
    """A database migrated to head once per session, that migrated_postgres_url copies."""
    name = "quarry_template"
    upgrade(postgres.create_database(name))  # upgrade's engine leaves no session behind
    return name


@pytest.fixture
def migrated_postgres_url(postgres: PostgresServer, postgres_template: str) -> Iterator[str]:
    """A fresh database at head (CREATE DATABASE ... TEMPLATE), dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield postgres.create_database(name, template=postgres_template)
    postgres.drop_database(name)


@pytest.fixture
def migrated_sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    """A SQLite database file at head: a copy of the session's migrated template."""
    shutil.copyfile(migrated_sqlite, tmp_path / "quarry.db")
    return f"sqlite+aiosqlite:///{tmp_path}/quarry.db"

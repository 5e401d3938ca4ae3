"""Database URLs: one URL names the server, and each client gets it in its driver's form.

A Postgres URL (`postgresql://user:password@host:5432/db`) names no driver; a driver suffix
(`postgresql+psycopg://`, `postgresql+asyncpg://`) is accepted and replaced, since the driver is
chosen here: the application's async engines use `pg_driver` (asyncpg unless the setting
says psycopg), migrations the synchronous psycopg, and direct connections (the emulator's
probes, the tests) libpq's plain form. SQLite URLs keep aiosqlite for the engines.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from shared.config import PgDriver

SYNC_PG_DRIVER = "psycopg"  # alembic runs synchronously


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def async_url(url: str, driver: PgDriver = "asyncpg") -> str:
    """The URL the application's async engine takes: Postgres through `driver`. asyncpg
    spells libpq's `sslmode` (same values: disable ... verify-full) as `ssl`."""
    pg_url = _with_pg_driver(url, driver)
    parsed = make_url(pg_url)
    if driver != "asyncpg" or "sslmode" not in parsed.query:
        return pg_url
    query = {("ssl" if k == "sslmode" else k): v for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The synchronous driver URL for the same database (migrations run synchronously)."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    return _with_pg_driver(url, SYNC_PG_DRIVER)


def libpq_url(url: str) -> str:
    """A Postgres URL as libpq (psql, psycopg.connect) takes it: `postgresql://...`."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _with_pg_driver(url: str, driver: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return parsed.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)

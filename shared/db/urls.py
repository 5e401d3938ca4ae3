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
from shared.errors import ConfigError

SYNC_PG_DRIVER = "psycopg"  # alembic runs synchronously


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


# libpq's URL parameters and asyncpg's connect() arguments that mean the same thing. Others
# reach asyncpg.connect() as keyword arguments it refuses, so they are refused here, by name.
LIBPQ_TO_ASYNCPG = {"sslmode": "ssl", "connect_timeout": "timeout"}


def async_url(url: str, driver: PgDriver = "asyncpg") -> str:
    """The URL the application's async engine takes: Postgres through `driver`. For asyncpg,
    libpq's `sslmode` (same values: disable ... verify-full) is `ssl` and `connect_timeout`
    is `timeout`; any other parameter is refused (a CA file for verify-full goes in
    PGSSLROOTCERT, which asyncpg reads as libpq does)."""
    pg_url = _with_pg_driver(url, driver)
    parsed = make_url(pg_url)
    if driver != "asyncpg" or not parsed.query:
        return pg_url
    query = {LIBPQ_TO_ASYNCPG.get(k, k): v for k, v in parsed.query.items()}
    unknown = sorted(set(query) - set(LIBPQ_TO_ASYNCPG.values()))
    if unknown:
        raise ConfigError(
            f"the database URL's parameter(s) {', '.join(unknown)} cannot be passed to asyncpg; "
            "it takes sslmode (or ssl) and connect_timeout in the URL, a CA file in "
            "PGSSLROOTCERT"
        )
    return parsed.set(query=query).render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The synchronous driver URL for the same database (migrations run synchronously)."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    return _with_pg_driver(url, SYNC_PG_DRIVER)


def libpq_url(url: str) -> str:
    """A Postgres URL as libpq (psql, psycopg.connect) takes it: `postgresql://...`."""
    parsed = make_url(_with_pg_driver(url, SYNC_PG_DRIVER))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _with_pg_driver(url: str, driver: str) -> str:
    """`url` through `driver`, its parameters in libpq's spelling (a URL written for asyncpg,
    `?ssl=require`, works for migrations and probes too)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    back = {v: k for k, v in LIBPQ_TO_ASYNCPG.items()}
    query = {back.get(k, k): v for k, v in parsed.query.items()}
    parsed = parsed.set(drivername=f"postgresql+{driver}", query=query)
    return parsed.render_as_string(hide_password=False)

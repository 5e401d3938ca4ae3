"""One URL names the server; each client gets it in its driver's form (shared/db/urls.py)."""

from __future__ import annotations

import pytest

from shared.db.engine import pg_connect_args
from shared.db.urls import async_url, is_postgres, libpq_url, sync_url
from shared.errors import ConfigError

SERVER = "postgresql://quarry:p%40ss%2Fw0rd@proxy.example:5432/quarry"


def test_db_urls_give_each_client_its_driver_and_keep_the_server() -> None:
    assert (
        async_url(SERVER) == "postgresql+asyncpg://quarry:p%40ss%2Fw0rd@proxy.example:5432/quarry"
    )
    assert async_url(SERVER, "psycopg") == SERVER.replace("postgresql://", "postgresql+psycopg://")
    assert sync_url(SERVER) == SERVER.replace("postgresql://", "postgresql+psycopg://")
    assert libpq_url(SERVER) == SERVER


def test_db_urls_replace_a_driver_the_url_names() -> None:
    written = SERVER.replace("postgresql://", "postgresql+psycopg://")
    assert async_url(written) == async_url(SERVER)
    assert libpq_url(async_url(SERVER)) == SERVER
    assert sync_url(async_url(SERVER)) == sync_url(SERVER)


def test_db_urls_spell_sslmode_as_asyncpg_takes_it() -> None:
    tls = f"{SERVER}?sslmode=verify-full"
    assert async_url(tls).endswith("/quarry?ssl=verify-full")
    assert async_url(tls, "psycopg").endswith("/quarry?sslmode=verify-full")
    assert sync_url(tls).endswith("/quarry?sslmode=verify-full")


def test_db_urls_translate_asyncpgs_spelling_back_for_libpq() -> None:
    tls = f"{SERVER}?ssl=require&timeout=5"
    assert async_url(tls).endswith("/quarry?ssl=require&timeout=5")
    assert sync_url(tls).endswith("/quarry?connect_timeout=5&sslmode=require")
    assert libpq_url(tls) == f"{SERVER}?connect_timeout=5&sslmode=require"
    assert async_url(f"{SERVER}?connect_timeout=5").endswith("/quarry?timeout=5")


def test_db_urls_refuse_a_parameter_asyncpg_would_refuse_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"sslrootcert.*PGSSLROOTCERT"):
        async_url(f"{SERVER}?sslmode=verify-full&sslrootcert=/etc/rds.pem")
    with pytest.raises(ConfigError, match="application_name"):
        async_url(f"{SERVER}?application_name=quarry")
    # psycopg passes libpq's parameters on to libpq, which knows them
    assert async_url(f"{SERVER}?application_name=quarry", "psycopg").endswith("=quarry")


def test_db_urls_leave_sqlite_on_aiosqlite_and_migrate_it_synchronously() -> None:
    url = "sqlite+aiosqlite:///.quarry/dev.db"
    assert not is_postgres(url)
    assert async_url(url) == url
    assert sync_url(url) == "sqlite:///.quarry/dev.db"


def test_db_urls_connections_keep_no_prepared_statement_for_rds_proxy() -> None:
    assert pg_connect_args("asyncpg") == {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
    }
    assert pg_connect_args("asyncpg", 2.0)["timeout"] == 2.0
    assert pg_connect_args("psycopg", 2.0) == {"prepare_threshold": None, "connect_timeout": 2}

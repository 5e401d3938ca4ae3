"""`quarry up` keeps secrets of its own: Postgres answers only with its password
(scram-sha-256, no trust), both Redis servers only with theirs, the instances sign with a
secret key the stack made, and every such file is readable by its owner only."""

from __future__ import annotations

import stat
from pathlib import Path

import psycopg
import pytest
import redis
from redis.exceptions import AuthenticationError, ResponseError

from shared.db.urls import libpq_url
from tests.stack.conftest import Stack

pytestmark = pytest.mark.stack
SECRETS = ("secrets/secret_key", "secrets/postgres_password", "secrets/redis_password")


def mode_of(stack: Stack, name: str) -> int:
    return stat.S_IMODE((stack.root / ".quarry/stack" / name).stat().st_mode)


def kept(stack: Stack, name: str) -> str:
    return (stack.root / ".quarry/stack" / name).read_text().strip()


def test_up_secrets_are_its_own_and_private(stack: Stack) -> None:
    for name in (*SECRETS, "alertmanager/alerts_token", "stack.json"):
        assert mode_of(stack, name) == 0o600, name
    assert len(kept(stack, "secrets/secret_key")) >= 32
    api = stack.service("api-1")
    environ = Path(f"/proc/{api['pid']}/environ").read_bytes().split(b"\0")
    assert f"QUARRY_SECRET_KEY={kept(stack, 'secrets/secret_key')}".encode() in environ


def test_up_postgres_asks_every_client_for_its_password(stack: Stack) -> None:
    password = kept(stack, "secrets/postgres_password")
    for name in ("pg-primary", "pg-replica"):
        url = libpq_url(stack.service(name)["url"])
        assert f":{password}@" in url
        with psycopg.connect(url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        port = stack.service(name)["port"]
        for given in (None, "wrong-password"):
            with pytest.raises(psycopg.OperationalError, match="password"):
                psycopg.connect(
                    host="127.0.0.1", port=port, user="quarry", dbname="quarry",
                    password=given, connect_timeout=5,
                )  # fmt: skip
        rules = (stack.root / ".quarry/stack" / name / "pg_hba.conf").read_text()
        assert "scram-sha-256" in rules
        assert "trust" not in rules


def test_up_both_redis_servers_ask_for_their_password(stack: Stack) -> None:
    password = kept(stack, "secrets/redis_password")
    for name in ("redis-queue", "redis-cache"):
        url = stack.service(name)["url"]
        assert f":{password}@" in url
        with redis.Redis.from_url(url, socket_timeout=5) as owner:
            assert owner.ping() is True
        stranger = redis.Redis(host="127.0.0.1", port=stack.service(name)["port"])
        with stranger, pytest.raises((AuthenticationError, ResponseError), match=r"(?i)auth"):
            stranger.ping()

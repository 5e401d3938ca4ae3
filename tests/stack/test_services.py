"""Redis and Postgres as the stack runs them: foreground children of a supervisor, on free ports."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

import psycopg
import pytest
import redis.asyncio as aioredis

from emulator.stack.services.ports import free_port
from emulator.stack.services.postgres import PostgresServer
from emulator.stack.services.redis import RedisServer, check_queue_server
from emulator.stack.services.replica import (
    PostgresReplica,
    current_lsn,
    replay_lsn,
    replica_lag_seconds,
)
from shared.db.urls import libpq_url
from shared.errors import ConfigError

pytestmark = pytest.mark.stack

READY_S = 20
STOP_S = 20


class Service(Protocol):
    stop_signal: signal.Signals

    def argv(self) -> list[str]: ...

    async def ready(self) -> bool: ...


@contextmanager
def scratch() -> Iterator[Path]:
    # Not pytest's tmp_path: that is private to root, and Postgres runs as another user.
    base = Path(tempfile.mkdtemp(prefix="quarry-stack-"))
    base.chmod(0o711)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@asynccontextmanager
async def running(service: Service, log: Path) -> AsyncIterator[None]:
    """Run `service` as a supervisor would, until ready; always stop it with its stop signal."""
    argv = service.argv()
    with log.open("ab") as out:
        proc = spawn(argv, out)
        try:
            await wait_ready(service, proc, " ".join(argv), log)
            yield
        finally:
            stop(proc, service.stop_signal, " ".join(argv))


def spawn(argv: list[str], out: BinaryIO) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)


async def wait_ready(service: Service, proc: subprocess.Popen[bytes], cmd: str, log: Path) -> None:
    deadline = time.monotonic() + READY_S
    while not await service.ready():
        if proc.poll() is not None:
            pytest.fail(f"{cmd} exited with {proc.returncode} before ready:\n{tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"{cmd} did not answer its ready() probe in {READY_S} s:\n{tail(log)}")
        await asyncio.sleep(0.05)


def tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-20:])


def stop(proc: subprocess.Popen[bytes], sig: signal.Signals, cmd: str) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(STOP_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"{cmd} ignored {sig.name} for {STOP_S} s and was killed")


async def redis_config(url: str, *names: str) -> dict[str, str]:
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        return {name: str((await client.config_get(name))[name]) for name in names}
    finally:
        await client.aclose()


async def test_queue_redis_is_durable_and_never_evicts() -> None:
    with scratch() as base:
        queue = RedisServer(base / "queue", free_port(), "queue")
        queue.prepare()
        async with running(queue, base / "queue.log"):
            settings = ("maxmemory-policy", "appendonly", "appendfsync", "save", "bind")
            assert await redis_config(queue.url, *settings) == {
                "maxmemory-policy": "noeviction",
                "appendonly": "yes",
                "appendfsync": "everysec",
                "save": "",
                "bind": "127.0.0.1",
            }
            await check_queue_server(queue.url)


async def test_cache_redis_evicts_lru_and_is_refused_as_a_queue() -> None:
    with scratch() as base:
        cache = RedisServer(base / "cache", free_port(), "cache", maxmemory="64mb")
        cache.prepare()
        async with running(cache, base / "cache.log"):
            settings = ("maxmemory-policy", "maxmemory", "appendonly", "save")
            assert await redis_config(cache.url, *settings) == {
                "maxmemory-policy": "allkeys-lru",
                "maxmemory": str(64 * 1024 * 1024),
                "appendonly": "no",
                "save": "",
            }
            with pytest.raises(ConfigError) as caught:
                await check_queue_server(cache.url)
    assert caught.value.detail == (
        f"the queue's Redis at {cache.url} would evict messages under memory pressure "
        "(maxmemory-policy=allkeys-lru); set noeviction"
    )


def remade(server: PostgresServer, step: Callable[[], None]) -> bool:
    """Whether `step` made the cluster again: initdb or a base backup writes a new PG_VERSION
    (a new inode), an existing cluster keeps its file."""
    mark = server.data_dir / "PG_VERSION"
    before = (mark.stat().st_ino, mark.stat().st_mtime_ns)
    step()
    return (mark.stat().st_ino, mark.stat().st_mtime_ns) != before


async def fetch(url: str, query: str) -> list[tuple[object, ...]]:
    async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as conn:
        return await (await conn.execute(query)).fetchall()


async def execute(url: str, query: str) -> None:
    async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as conn:
        await conn.execute(query)


async def wait_rows(url: str, query: str, expected: list[tuple[object, ...]]) -> None:
    deadline = time.monotonic() + 60  # generous for a loaded machine
    while True:
        try:
            rows = await fetch(url, query)
        except psycopg.errors.UndefinedTable:
            rows = []
        if rows == expected:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"replica never showed {expected} for {query!r} in 60 s; last {rows}")
        await asyncio.sleep(0.05)


async def wait_replayed(url: str, lsn: int | None) -> None:
    """Read-your-writes as a router would do it: wait until the standby replayed `lsn`."""
    assert lsn is not None
    deadline = time.monotonic() + 60
    while (replayed := await replay_lsn(url)) is None or replayed < lsn:
        if time.monotonic() > deadline:
            pytest.fail(f"replica replayed only up to {replayed}, not {lsn}, in 60 s")
        await asyncio.sleep(0.05)


async def test_replica_streams_from_primary_and_survives_a_restart() -> None:
    with scratch() as base:
        primary = PostgresServer(base / "primary", free_port(), fsync=False)
        replica = PostgresReplica(base / "replica", free_port(), primary)
        primary.prepare()
        async with running(primary, base / "primary.log"):
            replica.prepare()
            async with running(replica, base / "replica.log"):
                await execute(primary.url, "CREATE TABLE notes (id int PRIMARY KEY, body text)")
                await execute(primary.url, "INSERT INTO notes VALUES (1, 'first')")
                await wait_rows(replica.url, "SELECT * FROM notes", [(1, "first")])

                with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                    await execute(replica.url, "INSERT INTO notes VALUES (2, 'nope')")
                lag = await replica_lag_seconds(replica.url)
                assert lag is not None
                assert 0.0 <= lag < 5.0
                assert await replica_lag_seconds(primary.url) is None
                slots = "SELECT slot_name, slot_type, active FROM pg_replication_slots"
                assert await fetch(primary.url, slots) == [("quarry_replica", "physical", True)]

        # The second prepare() finds the clusters made and does no initdb nor base backup.
        assert not remade(primary, primary.prepare), "prepare() ran initdb again"
        async with running(primary, base / "primary.log"):
            assert not remade(replica, replica.prepare), "prepare() took a new base backup"
            async with running(replica, base / "replica.log"):
                await execute(primary.url, "INSERT INTO notes VALUES (2, 'second')")
                written = await current_lsn(primary.url)
                query = "SELECT * FROM notes ORDER BY id"
                await wait_rows(replica.url, query, [(1, "first"), (2, "second")])
                await wait_replayed(replica.url, written)
                assert await current_lsn(replica.url) is None
                assert await replay_lsn(primary.url) is None

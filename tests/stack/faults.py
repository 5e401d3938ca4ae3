"""Helpers of the fault tests (tests/stack/test_zz_faults.py): the stack's database, metrics
and queue seen from outside, and services stopped and restored the way a crash would."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis

from shared.db.urls import libpq_url
from shared.dispatch.redis import RedisDispatcher
from shared.flow import FLOW
from tests.stack.conftest import SlowSite, Stack, wait_for

DOCUMENT_STAGES = tuple(s.name for s in FLOW.chain)  # a row per document in each


def final_run(client: httpx.Client, run_id: str, deadline_s: float) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def final() -> dict[str, Any] | None:
        run: dict[str, Any] = client.get(f"/api/v1/runs/{run_id}").json()
        seen[:] = [run]
        return run if run["state"] not in ("queued", "running") else None

    try:
        return dict(wait_for(f"run {run_id} to finish", final, deadline_s))
    except AssertionError as exc:
        state = {k: seen[0].get(k) for k in ("state", "stages")} if seen else None
        raise AssertionError(f"{exc}; the run as last read: {state}") from None


def sql(stack: Stack, query: str, params: Any = ()) -> list[tuple[Any, ...]]:
    url = libpq_url(stack.service("pg-primary")["url"])
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute(query, params).fetchall()


def replica_transactions(stack: Stack) -> int:
    """Transactions the replica itself has counted in the stack's database (pg_stat_database
    on the standby counts what its own backends ran), read from its `postgres` database so
    that asking does not count."""
    url = libpq_url(stack.service("pg-replica")["url"])
    base, database = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        query = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s"
        row = conn.execute(query, (database.split("?", 1)[0],)).fetchone()
    assert row is not None, f"the replica has no database {database!r}"
    return int(row[0])


def workers(stack: Stack, stage: str) -> list[str]:
    name = f"worker-{stage}"
    return [s for s in stack.state["services"] if s == name or s.startswith(name + "-")]


def metric(stack: Stack, prefix: str, services: list[str]) -> float:
    """The sum of the samples starting with `prefix` across the services' /metrics."""
    total = 0.0
    for name in services:
        text = httpx.get(stack.service(name)["url"] + "/metrics", timeout=5).text
        total += sum(
            float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)
        )
    return total


def invocations(stack: Stack, stage: str, outcome: str) -> float:
    prefix = f'quarry_function_invocations_total{{function="{stage}",outcome="{outcome}"'
    return metric(stack, prefix, workers(stack, stage))


def send(stack: Stack, stage: str, body: dict[str, Any]) -> None:
    """Put a message on a stage's stream, as any process of the stack would."""

    async def go() -> None:
        dispatcher = RedisDispatcher(stack.service("redis-queue")["url"], [stage])
        await dispatcher.broker.startup()
        try:
            await dispatcher.send(stage, [body])
        finally:
            await dispatcher.broker.shutdown()

    asyncio.run(go())


def gone(pid: int) -> bool:
    """Exited (a zombie too: its parent, the held supervisor, has not reaped it yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


@contextmanager
def supervisor_held(stack: Stack) -> Iterator[None]:
    """The supervisor paused, so that a service stopped here stays down until the block ends;
    then it sees the exit as a crash and restarts the service, as it would any crash."""
    assert stack.proc is not None
    os.kill(stack.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(stack.proc.pid, signal.SIGCONT)


def stop(stack: Stack, name: str, sig: signal.Signals) -> dict[str, Any]:
    service = stack.service(name)
    os.kill(service["pid"], sig)
    wait_for(f"{name} to stop", lambda: gone(service["pid"]), 30, every=0.05)
    return service


def restarted(stack: Stack, before: dict[str, Any]) -> bool:
    return bool(stack.service(before["name"])["restarts"] > before["restarts"])


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def primary_answers(stack: Stack) -> bool:
    try:
        return sql(stack, "SELECT 1") == [(1,)]
    except psycopg.OperationalError:
        return False


def worker_warnings(stack: Stack, stage: str, last: int = 30) -> list[str]:
    """The last warning and error lines the stage's workers logged (why a message came back)."""
    folder = stack.root / ".quarry/stack/logs"
    lines = [
        line
        for log in sorted(folder.glob(f"worker-{stage}*.log"))
        for line in log.read_text(errors="replace").splitlines()
        if "WARNING" in line or "ERROR" in line
    ]
    return lines[-last:]


def crashes(stack: Stack) -> dict[str, int]:
    """How often each worker and the scheduler have crashed (hot reloads are not counted)."""
    services = stack.state["services"]
    return {n: s["restarts"] for n, s in services.items() if n.startswith(("worker-", "sched"))}


def bulk_source(client: httpx.Client, site: SlowSite, name: str, count: int) -> str:
    urls = [f"{site.base}/bulk-{name}-{i}.html" for i in range(count)]
    created = client.post("/api/v1/sources", json={"name": name, "kind": "urls", "urls": urls})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def fetched(site: SlowSite, name: str) -> Counter[str]:
    return Counter(p for p in site.requests if p.startswith(f"/bulk-{name}-"))


def assert_once_per_document(stack: Stack, run_id: str, documents: int) -> None:
    """Every document reached every stage exactly once: one result row per (document, stage),
    one insight, at most one LLM call per document and task, no dead letter."""
    rows = sql(
        stack,
        "SELECT stage, count(*), count(DISTINCT document_id) FROM stage_results "
        "WHERE run_id = %s GROUP BY stage",
        (run_id,),
    )
    assert {stage: (n, d) for stage, n, d in rows} == {
        stage: (documents, documents) for stage in DOCUMENT_STAGES
    }
    assert sql(stack, "SELECT count(*) FROM insights WHERE run_id = %s", (run_id,)) == [
        (documents,)
    ]
    repeated = sql(
        stack,
        "SELECT count(*) FROM (SELECT 1 FROM llm_calls WHERE run_id = %s "
        "GROUP BY document_id, task HAVING count(*) > 1) AS twice",
        (run_id,),
    )
    assert repeated == [(0,)]
    assert sql(stack, "SELECT count(*) FROM dead_letters WHERE run_id = %s", (run_id,)) == [(0,)]

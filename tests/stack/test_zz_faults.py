"""Faults against the real stack: a worker killed mid-run, a message delivered again after its
commit, a poison message, a crash between commit and enqueue, the queue Redis down, and the
primary restarted mid-run. None loses data or does an effect twice, and no client sees a 500.

The module runs last (zz): it stops services, and leaves each one restored and answering."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.stack.consumer import INVOCATIONS
from emulator.table import load_table
from shared import runs
from shared.cache import RedisCache
from shared.db.engine import SqlDatabase
from shared.webhooks.signature import sign_standard
from tests.stack.conftest import TIMEOUTS, SlowSite, Stack, wait_for
from tests.stack.faults import (
    assert_once_per_document,
    bulk_source,
    crashes,
    fetched,
    final_run,
    invocations,
    metric,
    primary_answers,
    redis_answers,
    replica_transactions,
    restarted,
    send,
    sql,
    stop,
    supervisor_held,
    worker_warnings,
    workers,
)

pytestmark = pytest.mark.stack
BULK = 200


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client() as client:  # carries the session's admin key
        yield client


def test_faults_worker_killed_with_200_documents_in_flight_loses_and_repeats_nothing(
    stack: Stack, slow_site: SlowSite, api: httpx.Client
) -> None:
    source_id = bulk_source(api, slow_site, "killed", BULK)
    started = api.post("/api/v1/runs", json={"source_id": source_id})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    wait_for(
        "extraction to be under way",
        lambda: sum(fetched(slow_site, "killed").values()) >= 20,
        90,
        every=0.05,
    )
    victim = stack.service("worker-extraction") | {"name": "worker-extraction"}
    os.kill(victim["pid"], signal.SIGKILL)
    run = final_run(api, run_id, 90)
    assert run["state"] == "succeeded"
    assert run["discovered"] == BULK
    assert run["stages"] == {
        "discovery": {"succeeded": BULK, "failed": 0, "skipped": 0},
        "extraction": {"succeeded": BULK, "failed": 0, "skipped": 0},
        "intelligence": {"succeeded": BULK, "failed": 0, "skipped": 0},
    }
    assert_once_per_document(stack, run_id, BULK)
    pages = fetched(slow_site, "killed")
    assert len(pages) == BULK  # every page fetched; a page fetched twice was in the dead worker
    redone = sum(n - 1 for n in pages.values())
    # at most what the dead worker held: its invocations at once, each a batch read only
    # when it could start
    held = INVOCATIONS * load_table(stack.table).functions["extraction"].batch_size
    assert redone <= held, (
        f"{redone} pages fetched again, more than the {held} the dead worker held: "
        f"{sorted(p for p, n in pages.items() if n > 1)}; the extraction workers said: "
        f"{worker_warnings(stack, 'extraction')}"
    )
    assert restarted(stack, victim)
    print(f"\n{BULK} documents, a worker SIGKILLed: 0 lost, 0 effects twice, {redone} redone")


def test_faults_message_delivered_again_after_its_commit_has_no_second_effect(
    stack: Stack, slow_site: SlowSite, api: httpx.Client
) -> None:
    source_id = bulk_source(api, slow_site, "again", 2)
    started = api.post("/api/v1/runs", json={"source_id": source_id})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    run = final_run(api, run_id, 90)
    assert run["state"] == "succeeded"
    (doc_id,), *_ = sql(stack, "SELECT document_id FROM insights WHERE run_id = %s", (run_id,))
    url = sql(stack, "SELECT url FROM documents WHERE id = %s", (doc_id,))[0][0]

    def effects() -> list[tuple[Any, ...]]:
        return sql(
            stack,
            "SELECT (SELECT count(*) FROM stage_results WHERE run_id = %(r)s), "
            "(SELECT count(*) FROM insights WHERE run_id = %(r)s), "
            "(SELECT count(*) FROM llm_calls WHERE run_id = %(r)s), "
            "(SELECT count(*) FROM outbox WHERE run_id = %(r)s), "
            "(SELECT count(*) FROM documents WHERE source_id = %(s)s), "
            "(SELECT max(finished_at) FROM runs WHERE id = %(r)s)",
            {"r": run_id, "s": source_id},
        )

    before = effects()
    fetches = len(slow_site.requests)
    # The worker committed, then died before acknowledging: the queue delivers each again.
    messages = {
        "discovery": {"run_id": run_id, "source_id": source_id},
        "extraction": {"run_id": run_id, "source_id": source_id, "document_id": doc_id, "url": url},
        "intelligence": {"run_id": run_id, "source_id": source_id, "document_id": doc_id},
    }
    for stage, body in messages.items():
        done = invocations(stack, stage, "success")
        send(stack, stage, body)
        wait_for(
            f"{stage} to handle the message again",
            lambda stage=stage, done=done: invocations(stack, stage, "success") > done,
            60,
            every=0.1,
        )
    assert effects() == before  # no row, dispatch, provider call or state change
    assert len(slow_site.requests) == fetches  # not even a second fetch
    # The run is as it was; only its estimated cost grows, since each delivery is invoked and
    # billed again (and the ledger writes every second).
    again = api.get(f"/api/v1/runs/{run_id}").json()
    assert {k: v for k, v in again.items() if k != "cost"} == {
        k: v for k, v in run.items() if k != "cost"
    }


@pytest.fixture(scope="module")
def poison(stack: Stack, api: httpx.Client) -> dict[str, Any]:
    """A message that always fails (it is not a valid analytics message), once dead-lettered,
    with the attempts and dead letters counted on the way."""
    names = workers(stack, "analytics")
    dead = 'quarry_queue_dead_letters_total{stage="analytics"}'
    before = invocations(stack, "analytics", "invalid"), metric(stack, dead, names)
    marker = uuid.uuid4().hex
    send(stack, "analytics", {"run_id": marker, "poisoned": True})

    def letter() -> dict[str, Any] | None:
        listed = api.get("/api/v1/dead-letters", params={"stage": "analytics", "limit": 200})
        assert listed.status_code == 200, listed.text
        return next((d for d in listed.json()["items"] if d["run_id"] == marker), None)

    found = wait_for("the poison message to be dead-lettered", letter, 120)
    return {
        "letter": found,
        "attempts": invocations(stack, "analytics", "invalid") - before[0],
        "counted": metric(stack, dead, names) - before[1],
    }


def test_faults_poison_message_is_attempted_max_receive_times_then_dead_lettered(
    stack: Stack, api: httpx.Client, poison: dict[str, Any]
) -> None:
    allowed = load_table(stack.table).functions["analytics"].max_receive
    letter = poison["letter"]
    assert allowed == 5  # serverless.yml's maxReceiveCount for the analytics queue
    assert poison["attempts"] == allowed
    assert letter["attempts"] == allowed
    assert letter["body"] == {"run_id": letter["run_id"], "poisoned": True}
    assert "not a valid RollupSource message" in letter["error"]
    assert letter["replayed_at"] is None
    assert poison["counted"] == 1
    page = api.get("/dead-letters")  # the dashboard, through nginx
    assert page.status_code == 200
    assert letter["run_id"][:8] in page.text
    prom = stack.service("prometheus")["url"]
    rules = httpx.get(prom + "/api/v1/rules", timeout=5).json()["data"]["groups"]
    watching = [
        r for g in rules for r in g["rules"] if "quarry_queue_dead_letters_total" in r["query"]
    ]
    assert [r["name"] for r in watching] == ["QuarryDeadLetters"]

    def alert() -> list[dict[str, Any]]:
        alerts = httpx.get(prom + "/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        return [
            a
            for a in alerts
            if a["labels"]["alertname"] == "QuarryDeadLetters"
            and a["labels"].get("stage") == "analytics"
        ]

    # Scraped every 5 s and evaluated every 5 s: it fires within two rounds on a quiet
    # machine; a loaded one may stretch the rounds, so the wait is generous.
    assert wait_for("QuarryDeadLetters to fire for analytics", alert, 90, every=0.5)


def test_faults_run_committed_before_a_crash_is_enqueued_by_the_relay(
    stack: Stack, slow_site: SlowSite, api: httpx.Client
) -> None:
    source_id = bulk_source(api, slow_site, "relayed", 1)

    async def commit_then_crash() -> str:
        """What start_run() commits, the process then dying before it sends the dispatch."""
        db = SqlDatabase(stack.service("pg-primary")["url"])
        try:
            async with db.writer() as session:
                run, _ = await runs.start_run_in(session, source_id, "api", max_active=10)
            return run.id
        finally:
            await db.dispose()

    run_id = asyncio.run(commit_then_crash())
    scheduler = stop(stack, "scheduler", signal.SIGKILL) | {"name": "scheduler"}  # the relay too
    wait_for("the supervisor to restart the scheduler", lambda: restarted(stack, scheduler), 60)
    back = time.monotonic()

    def sent() -> bool:
        rows = sql(stack, "SELECT sent_at FROM outbox WHERE run_id = %s", (run_id,))
        return bool(rows) and all(sent_at is not None for (sent_at,) in rows)

    # the relay sends what is older than 5 s; a loaded machine may take longer to get there
    wait_for("the relay to send the outbox row", sent, 60, every=0.1)
    relayed_s = time.monotonic() - back
    run = final_run(api, run_id, 90)
    assert run["state"] == "succeeded"
    assert run["trigger"] == "api"
    print(f"\nrun committed before a crash: enqueued {relayed_s:.1f} s after the relay restarted")


def test_faults_queue_redis_down_runs_start_and_resume_by_themselves(
    stack: Stack, slow_site: SlowSite, api: httpx.Client, poison: dict[str, Any]
) -> None:
    source_id = bulk_source(api, slow_site, "redis", 2)
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    hook = {"scheme": "standard", "secrets": [secret]}
    configured = api.put(f"/api/v1/sources/{source_id}/webhook", json=hook)
    assert configured.status_code == 200, configured.text
    queue_url = stack.service("redis-queue")["url"]
    cache_url = stack.service("redis-cache")["url"]
    statuses: Counter[int] = Counter()
    crashed = crashes(stack)
    with supervisor_held(stack):
        queue = stop(stack, "redis-queue", signal.SIGTERM) | {"name": "redis-queue"}
        cache = stop(stack, "redis-cache", signal.SIGTERM) | {"name": "redis-cache"}
        started = api.post("/api/v1/runs", json={"source_id": source_id})
        assert started.status_code == 202, started.text  # the outbox holds the dispatch
        run_id = started.json()["id"]
        body, delivery, now = b'{"event": "redis-down"}', uuid.uuid4().hex, int(time.time())
        hooked = httpx.post(
            f"{stack.entry}/api/v1/webhooks/{source_id}",
            content=body,
            headers={
                "content-type": "application/json",
                "webhook-id": delivery,
                "webhook-timestamp": str(now),
                "webhook-signature": sign_standard(secret, delivery, now, body),
            },
        )
        assert hooked.status_code == 202, hooked.text  # a webhook's run, in the outbox too
        hooked_id = hooked.json()["run_id"]
        read = api.get(f"/api/v1/runs/{run_id}")
        assert read.status_code == 200
        assert read.json()["state"] == "queued"
        assert asyncio.run(RedisCache(cache_url).get("quarry:any")) is None  # a miss, no error
        replay = api.post(f"/api/v1/dead-letters/{poison['letter']['id']}/replay")
        assert replay.status_code == 503, replay.text  # it needs the queue itself
        assert replay.headers["retry-after"] == "5"
        assert replay.json()["request_id"] == replay.headers["x-request-id"]
        assert "the queue is unreachable" in replay.json()["detail"]
        statuses.update(r.status_code for r in (started, hooked, read, replay))
        for _ in range(5):
            statuses[api.get("/api/v1/runs", params={"limit": 5}).status_code] += 1
            statuses[api.get("/").status_code] += 1
    wait_for("the queue Redis to return", lambda: redis_answers(queue_url), 60, every=0.1)
    back = time.monotonic()

    def resumed() -> bool:
        return api.get(f"/api/v1/runs/{run_id}").json()["state"] != "queued"

    wait_for("the run to resume once the queue Redis returned", resumed, 60, every=0.1)
    resumed_s = time.monotonic() - back
    run = final_run(api, run_id, 90)
    hooked_run = final_run(api, hooked_id, 90)
    wait_for("the cache Redis to return", lambda: redis_answers(cache_url), 60, every=0.1)
    assert restarted(stack, queue)
    assert crashes(stack) == crashed  # the workers and the relay rode the outage out
    assert restarted(stack, cache)
    assert run["state"] == "succeeded"
    assert (hooked_run["state"], hooked_run["trigger"]) == ("succeeded", "webhook")
    assert statuses[500] == 0
    letters = api.get("/api/v1/dead-letters", params={"stage": "analytics", "limit": 200})
    kept = [d for d in letters.json()["items"] if d["id"] == poison["letter"]["id"]]
    assert [d["replayed_at"] for d in kept] == [None]  # the failed replay lost nothing
    print(f"\nqueue Redis down: runs accepted (202), resumed {resumed_s:.1f} s after it returned")


def test_faults_primary_restart_mid_run_completes_and_answers_503_meanwhile(
    stack: Stack, slow_site: SlowSite, api: httpx.Client
) -> None:
    count = 6
    source_id = bulk_source(api, slow_site, "primary", count)
    started = api.post("/api/v1/runs", json={"source_id": source_id})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    wait_for(
        "extraction to be under way",
        lambda: sum(fetched(slow_site, "primary").values()) >= 2,
        90,
        every=0.02,
    )
    statuses: Counter[int] = Counter()
    crashed = crashes(stack)
    odd: list[tuple[str, int, str]] = []
    pages: Counter[int] = Counter()  # the dashboard's home page
    with supervisor_held(stack):
        primary = stop(stack, "pg-primary", signal.SIGINT) | {"name": "pg-primary"}
        served = replica_transactions(stack)
        for i in range(5):
            wrote = api.post(
                "/api/v1/sources",
                json={"name": f"down-{i}", "kind": "urls", "urls": ["https://example.org/"]},
                headers={"x-request-id": f"primary-down-{i}"},
            )
            assert wrote.status_code == 503, wrote.text
            assert wrote.headers["retry-after"] == "5"
            assert wrote.headers["x-request-id"] == f"primary-down-{i}"
            assert wrote.json()["request_id"] == f"primary-down-{i}"
            assert "the database is unreachable" in wrote.json()["detail"]
            statuses[wrote.status_code] += 1
            for path in (f"/api/v1/runs/{run_id}", "/api/v1/health"):
                read = api.get(path)
                statuses[read.status_code] += 1
                if read.status_code != 200:  # kept to say which read failed, and how
                    odd.append((path, read.status_code, read.text[:160]))
            pages[api.get("/").status_code] += 1
        # The API's reads (5 of the run, 5 of health) answered with the primary down: the
        # replica counts them (its backends report their counts within a second or so of
        # going idle).
        replica_served = wait_for(
            "the replica to count the API reads it served with the primary down",
            lambda: (n := replica_transactions(stack) - served) >= 10 and n,
            60,
            every=0.5,
        )
    wait_for("the primary to return", lambda: primary_answers(stack), 90, every=0.1)
    assert restarted(stack, primary)
    assert crashes(stack) == crashed
    run = final_run(api, run_id, TIMEOUTS["extraction"] + 60)
    # writes 503; the API's reads 200 (so no 500)
    assert statuses == {503: 5, 200: 10}, f"{dict(statuses)}; reads not 200: {odd}"
    # The dashboard's home page needs the primary: its 503 page, never a 500, and never nginx's
    # 502 (an instance's 503 is passed on, not counted as the instance failing).
    assert set(pages) <= {200, 503}, pages
    assert sum(pages.values()) == 5
    assert replica_served >= 10
    assert run["state"] == "succeeded"
    assert_once_per_document(stack, run_id, count)
    print(
        f"\nprimary down mid-run: API answers {dict(statuses)}, dashboard {dict(pages)},"
        f" {replica_served} transactions on the replica; run completed after it returned"
    )

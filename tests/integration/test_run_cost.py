"""The invocation ledger in the embedded platform: a demo run's estimated cost in the API,
invocations split between runs by record, the Lambda path writing before it returns, and
records kept while the database is unreachable."""

from __future__ import annotations

import asyncio
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from emulator.platform import Embedded, embedded
from emulator.table import load_handler
from shared.config import Settings
from shared.db import migrate
from shared.db.engine import SqlDatabase
from shared.db.models import (
    Document,
    Invocation,
    InvocationMinute,
    Run,
    RunUsage,
    Source,
    StageResult,
)
from shared.handlers.context import LambdaContext
from shared.handlers.invocation import declare_memory, invocation
from shared.lambda_events.sqs import message_record
from shared.messages import ExtractDocument
from shared.metering.ledger import LEDGER, Ledger
from shared.repo import costs, settlement
from tests.conftest import ROOT
from tests.integration.lambda_script import prelude
from tests.integration.test_pipeline import run_demo
from tests.unit.test_invocation_metering import logged

STAGES = ["runs", "discovery", "extraction", "intelligence", "analytics"]


def cost_counter(function: str, component: str) -> float:
    value = REGISTRY.get_sample_value(
        "quarry_cost_usd_total", {"function": function, "component": component}
    )
    return value or 0.0


async def test_metering_a_demo_run_shows_its_cost_broken_down_in_the_api(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    before = cost_counter("extraction", "compute")
    with logged():  # JSON log lines, as `quarry dev` writes them: their bytes are counted
        run = await run_demo(client, demo_site)
        await platform.idle()  # analytics runs once the run is final
    await LEDGER.flush(platform.runtime.db)
    got = (await client.get(f"/api/v1/runs/{run['id']}")).json()
    cost = got["cost"]
    by_fn = {f["function"]: f for f in cost["functions"]}
    assert [f["function"] for f in cost["functions"]] == STAGES
    stages = got["stages"]
    table = platform.table.functions
    invoked = {fn: by_fn[fn]["usage"]["invocations"] for fn in STAGES}
    assert {fn: invoked[fn] for fn in ("runs", "discovery", "analytics")} == {
        "runs": 1,  # POST /api/v1/runs started it
        "discovery": 1,
        "analytics": 1,
    }
    # document stages take SQS batches: one invocation per batch of up to batchSize records
    handled = {
        "extraction": run["discovered"],
        "intelligence": sum(stages["intelligence"].values()),
    }
    for fn, records in handled.items():
        assert math.ceil(records / table[fn].batch_size) <= invoked[fn] <= records, fn
    for fn in STAGES:
        usage, memory = by_fn[fn]["usage"], table[fn].memory
        assert by_fn[fn]["memory_mb"] == memory, fn
        assert usage["gb_seconds"] == pytest.approx(usage["billed_ms"] * memory / 1024 / 1000)
        assert usage["lambda_requests"] == usage["invocations"], fn
        assert usage["log_bytes"] > 0, fn
    assert cost["usage"]["http_requests"] == 1
    # the documents discovered sent in SendMessageBatch calls of ten, then the batch's
    # receive and delete
    assert by_fn["discovery"]["usage"]["sqs_requests"] == math.ceil(run["discovered"] / 10) + 2
    total = cost["cost"]
    parts = ("compute_usd", "requests_usd", "queue_usd", "logs_usd", "llm_usd")
    assert total["total_usd"] == pytest.approx(sum(total[p] for p in parts))
    assert all(total[p] > 0 for p in parts if p != "llm_usd")
    assert total["llm_usd"] == 0  # the offline default is free
    assert cost["region"] == "us-east-1"
    assert "not a bill" in cost["note"]
    assert cost_counter("extraction", "compute") > before

    async with platform.runtime.db.reader() as session:
        rows = (await session.scalars(select(Invocation))).all()
        minutes = await session.scalar(
            select(func.sum(InvocationMinute.invocations)).where(
                InvocationMinute.function == "extraction"
            )
        )
    mine = [r for r in rows if r.function == "extraction" and run["id"] in r.run_ids]
    assert len(mine) == invoked["extraction"]
    assert minutes == len([r for r in rows if r.function == "extraction"])
    assert {r.memory_mb for r in mine} == {table["extraction"].memory}


async def test_metering_an_invocation_of_several_runs_splits_its_cost_by_record(
    platform: Embedded,
) -> None:
    declare_memory("split-fn", 2048)
    with invocation("split-fn", "sqs", "req-split") as inv:
        for run_id in ("run-x", "run-x", "run-x", "run-y"):
            inv.received_sqs(1000)
            inv.for_run(run_id)
    await LEDGER.flush(platform.runtime.db)
    async with platform.runtime.db.reader() as session:
        x = await costs.for_run(session, "run-x", 0.0, 0, ())
        y = await costs.for_run(session, "run-y", 0.0, 0, ())
        (row,) = (
            await session.scalars(select(Invocation).where(Invocation.function == "split-fn"))
        ).all()
    assert (x.usage.invocations, y.usage.invocations) == (0.75, 0.25)
    assert x.usage.billed_ms == pytest.approx(row.billed_ms * 0.75)
    assert y.usage.billed_ms == pytest.approx(row.billed_ms * 0.25)
    assert x.usage.sqs_requests + y.usage.sqs_requests == pytest.approx(2)  # receive, delete
    assert x.cost.total_usd == pytest.approx(3 * y.cost.total_usd)
    assert row.run_ids == ["run-x", "run-y"]


async def test_metering_keeps_records_while_the_database_is_unreachable(tmp_path: Path) -> None:
    ledger = Ledger()
    with invocation("held-fn", "sqs", "req-held"):
        pass
    ledger.record(next(r for r in LEDGER.take() if r.function == "held-fn"))
    gone = SqlDatabase(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/q.db")
    assert await ledger.flush_quietly(gone) == 0
    assert ledger.pending() == 1  # kept for the next try
    url = f"sqlite+aiosqlite:///{tmp_path}/q.db"
    migrate.upgrade(url)
    db = SqlDatabase(url)
    try:
        assert await ledger.flush_quietly(db) == 1
        async with db.reader() as session:
            names = (await session.scalars(select(Invocation.function))).all()
    finally:
        await db.dispose()
        await gone.dispose()
    assert names == ["held-fn"]
    assert ledger.pending() == 0


LAMBDA = (
    prelude("metering-test-secret-key-0123456789abcdef")
    + """for n in range(2):
    event["headers"]["x-request-id"] = f"lambda-meter-{n}"
    print("STATUS", handler(event, LambdaContext("health"))["statusCode"], file=sys.stderr)
import os
os._exit(0)  # as Lambda freezes the environment: nothing after the handler runs
"""
)


async def test_metering_in_lambda_is_written_before_the_handler_returns(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/lambda.db"
    await asyncio.to_thread(migrate.upgrade, url)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "quarry-dev-health",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    }
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", LAMBDA, url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("STATUS 200") == 2, proc.stderr[-3000:]
    db = SqlDatabase(url)
    try:
        async with db.reader() as session:
            rows = (await session.scalars(select(Invocation).order_by(Invocation.request_id))).all()
    finally:
        await db.dispose()
    assert [(r.request_id, r.memory_mb, r.cold, r.http_requests) for r in rows] == [
        ("lambda-meter-0", 256, True, 1),
        ("lambda-meter-1", 256, False, 1),
    ]


async def test_metering_run_usage_rows_are_one_per_run_and_function(platform: Embedded) -> None:
    for _ in range(3):
        with invocation("repeat-fn", "sqs", "req-r") as inv:
            inv.for_run("run-r")
    await LEDGER.flush(platform.runtime.db)
    async with platform.runtime.db.reader() as session:
        rows = (await session.scalars(select(RunUsage).where(RunUsage.run_id == "run-r"))).all()
    assert [(r.function, r.invocations, r.lambda_requests) for r in rows] == [
        ("repeat-fn", 3.0, 3.0)
    ]


async def test_metering_a_run_past_its_compute_budget_fails_and_its_messages_are_skipped(
    settings: Settings,
) -> None:
    cfg = settings.model_copy(update={"run_compute_budget_usd": 1e-7})
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as platform:
        db = platform.runtime.db
        async with db.writer() as session:
            session.add(Source(id="src-b", name="budget", kind="urls", urls=[]))
            await session.flush()
            for run_id in ("run-spent", "run-fresh"):
                session.add(Run(id=run_id, source_id="src-b", state="running", discovered=1))
            session.add(Document(id="doc-b", source_id="src-b", url="http://127.0.0.1:9/x"))
        with invocation("extraction", "sqs", "req-spent") as inv:  # one Lambda request alone
            inv.for_run("run-spent")  # is $0.0000002, past the $0.0000001 budget
        await LEDGER.flush(db)
        handler, _ = load_handler(platform.table.functions["extraction"])
        body = ExtractDocument(
            run_id="run-spent", source_id="src-b", document_id="doc-b", url="http://127.0.0.1:9/x"
        )
        record = message_record("extraction", body.model_dump())
        assert await handler.attempt(record, LambdaContext("extraction")) is None
        async with db.reader() as session:
            spent = await session.get(Run, "run-spent")
            results = await session.scalar(select(func.count()).select_from(StageResult))
            fresh = await settlement.stop_over_budget(session, "run-fresh", 1e-7)
    assert spent is not None
    assert spent.state == "failed"
    assert spent.error is not None
    assert re.fullmatch(
        r"compute_budget_exceeded: the run's estimated AWS cost \$0\.000000[2-9]\d{0,2} reached "
        r"its budget of \$0\.0000001 \(QUARRY_RUN_COMPUTE_BUDGET_USD\)",
        spent.error,
    ), spent.error
    assert results == 0  # the message was skipped, nothing fetched or written
    assert fresh is False  # a run with nothing spent is not stopped

"""One request id from the caller through the gateway, the handler, every stage it dispatches
and each database statement (with its role), in the JSON logs and on the run."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import text

from emulator.platform import Embedded
from shared.db.engine import SqlDatabase
from shared.flow import FLOW
from shared.logs import JsonFormatter, request_id_var
from tests.integration.conftest import poll

PAGES = [
    "/articles/ashford-rovers-clinch-promotion.html",
    "/articles/astronomers-spot-water-on-exoplanet.html",
]
RID = "trace-0123456789abcdef"


@contextmanager
def json_logs() -> Iterator[list[dict[str, Any]]]:
    """Every `quarry.*` record as the JSON line it becomes, statements (DEBUG) included."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("quarry")
    sql = logging.getLogger("quarry.sql")
    levels = (root.level, sql.level)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    sql.setLevel(logging.DEBUG)
    found: list[dict[str, Any]] = []
    try:
        yield found
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        sql.setLevel(levels[1])
        found += [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_request_id_follows_a_run_through_every_stage_and_statement(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    source = await client.post(
        "/api/v1/sources",
        json={"name": "traced", "kind": "urls", "urls": [demo_site + p for p in PAGES]},
    )
    assert source.status_code == 201, source.text
    with json_logs() as logs:
        started = await client.post(
            "/api/v1/runs", json={"source_id": source.json()["id"]}, headers={"X-Request-Id": RID}
        )
        assert started.status_code == 202, started.text
        assert started.headers["x-request-id"] == RID
        run_id = started.json()["id"]

        async def final() -> dict[str, Any] | None:
            run = (await client.get(f"/api/v1/runs/{run_id}")).json()
            return run if run["state"] not in ("queued", "running") else None

        run = await poll("the traced run to finish", final)
        await platform.idle()
    assert run["state"] == "succeeded", run
    assert run["request_id"] == RID
    traced = [entry for entry in logs if entry["request_id"] == RID]
    functions = {entry["function"] for entry in traced}
    chain = {s.name for s in FLOW.chain}
    assert {"runs", *chain} <= functions
    reports = [e for e in traced if e["message"].startswith("REPORT RequestId: " + RID)]
    assert {e["function"] for e in reports} >= {"runs", *chain}
    statements = [e for e in traced if e["logger"] == "quarry.sql"]
    assert {e["function"] for e in statements} >= {"runs", "discovery", "extraction"}
    assert {e["role"] for e in statements} == {"primary"}  # SQLite: the writer serves reads
    assert any(e["message"].startswith("INSERT INTO runs") for e in statements)
    # a request that carries no id of its own gets a fresh one, not the last one
    other = await client.get(f"/api/v1/runs/{run_id}")
    assert other.headers["x-request-id"] not in ("", RID)


async def test_request_id_hostile_header_is_replaced(client: httpx.AsyncClient) -> None:
    for hostile in (b"a b", b"x" * 129, b"<script>", "id\u00e9".encode("latin-1")):
        response = await client.get("/api/v1/health", headers={b"X-Request-Id": hostile})
        assert response.status_code == 200
        assert response.headers["x-request-id"].encode("latin-1") != hostile


async def test_request_id_dev_queue_gauges_read_the_in_process_broker(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    source = await client.post(
        "/api/v1/sources", json={"name": "gauged", "kind": "urls", "urls": [demo_site + PAGES[0]]}
    )
    started = await client.post("/api/v1/runs", json={"source_id": source.json()["id"]})
    assert started.status_code == 202
    await platform.idle()
    for stage in (s.name for s in FLOW.chain):
        depth = REGISTRY.get_sample_value("quarry_queue_depth_messages", {"stage": stage})
        age = REGISTRY.get_sample_value("quarry_queue_oldest_message_age_seconds", {"stage": stage})
        assert (depth, age) == (0.0, 0.0), stage


async def test_request_id_statement_logs_name_the_role_that_ran_them(tmp_path: Path) -> None:
    writer, reader = tmp_path / "primary.db", tmp_path / "replica.db"
    for path in (writer, reader):
        sqlite3.connect(path).close()
    db = SqlDatabase(f"sqlite+aiosqlite:///{writer}", f"sqlite+aiosqlite:///{reader}")
    token = request_id_var.set("role-check-1")
    try:
        with json_logs() as logs:
            async with db.writer() as session:
                await session.execute(text("SELECT 'on the writer'"))
            async with db.reader() as session:
                await session.execute(text("SELECT 'on the reader'"))
    finally:
        request_id_var.reset(token)
        await db.dispose()
    roles = {
        e["message"]: e["role"]
        for e in logs
        if e["logger"] == "quarry.sql" and "on the" in e["message"]
    }
    assert roles == {
        "SELECT 'on the writer'": "primary",
        "SELECT 'on the reader'": "replica",
    }
    assert {e["request_id"] for e in logs if e["logger"] == "quarry.sql"} == {"role-check-1"}

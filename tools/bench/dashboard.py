"""The dashboard benchmark: server-side render time of each page with N documents in a
throwaway SQLite database, against the 404 page (the layout, no queries) in the same run."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from shared import ports
from shared.composition import build_runtime
from shared.config_load import load_settings
from shared.db import migrate
from shared.db.models import DeadLetter, Document, Insight, Rollup, Run, Source, StageResult
from shared.errors import QuarryError
from shared.ports import Database
from tools.bench.report import Benchmark, BenchOptions, Measurement, to_benchmark

BASELINE = "404 page (layout only)"
DESCRIPTION = (
    "Requests per second (one at a time, in process over ASGI) of each dashboard page with "
    "{documents} documents, insights and stage results in SQLite, against `" + BASELINE + "`; "
    "ratio = page req/s ÷ baseline req/s, so 0.25 means a page takes four times the baseline."
)
LANGUAGES = ("en", "de", "fr", "es")
LABELS = ("positive", "neutral", "negative")
WORDS = ("harbour", "council", "budget", "festival", "transit", "energy", "clinic", "library")


class DroppingDispatcher:
    """The benchmark only reads pages; nothing it does sends a stage message."""

    async def send(self, stage: str, bodies: Sequence[dict[str, Any]]) -> None:
        raise QuarryError(f"the dashboard benchmark sent a {stage} message; it only reads")


def _rows(documents: int) -> dict[Any, list[dict[str, Any]]]:
    now = datetime.now(UTC)
    source = uuid.uuid4().hex
    runs = [uuid.uuid4().hex for _ in range(max(1, documents // 500))]
    docs, results, insights = [], [], []
    for i in range(documents):
        doc = uuid.uuid4().hex
        run = runs[i % len(runs)]
        word = WORDS[i % len(WORDS)]
        docs.append(
            {
                "id": doc,
                "source_id": source,
                "url": f"https://bench.example/{i}",
                "title": f"{word.title()} story number {i}",
                "language": LANGUAGES[i % len(LANGUAGES)],
                "text": f"A story about the {word} and the town, number {i}. " * 20,
                "markdown": f"## Story {i}\n\nA story about the *{word}*.\n" * 5,
                "created_at": now - timedelta(seconds=i),
                "updated_at": now - timedelta(seconds=i),
            }
        )
        for stage in ("extraction", "intelligence"):
            status = "failed" if i % 97 == 0 and stage == "intelligence" else "succeeded"
            results.append(
                {
                    "run_id": run,
                    "document_id": doc,
                    "stage": stage,
                    "status": status,
                    "detail": "model timed out" if status == "failed" else None,
                    "updated_at": now - timedelta(seconds=i),
                }
            )
        insights.append(
            {
                "run_id": run,
                "document_id": doc,
                "summary": f"A summary of story {i} about the **{word}**.",
                "keywords": [word, WORDS[(i + 3) % len(WORDS)]],
                "sentiment": (i % 7 - 3) / 3,
                "sentiment_label": LABELS[i % 3],
                "language": LANGUAGES[i % len(LANGUAGES)],
                "provider": "local",
                "model": "offline",
                "created_at": now,
            }
        )
    return {
        Source: [
            {
                "id": source,
                "name": "Bench source",
                "kind": "site",
                "url": "https://bench.example/",
                "urls": [],
                "created_at": now,
            }
        ],
        Run: [
            {
                "id": r,
                "source_id": source,
                "state": "succeeded",
                "trigger": "api",
                "discovered": documents // len(runs),
                "created_at": now - timedelta(minutes=n),
                "started_at": now,
                "finished_at": now,
            }
            for n, r in enumerate(runs)
        ],
        Document: docs,
        StageResult: results,
        Insight: insights,
        Rollup: [
            {
                "source_id": source,
                "day": (now - timedelta(days=d)).date(),
                "documents": documents // 30,
                "avg_sentiment": 0.1,
                "languages": {"en": 10},
                "top_keywords": [[w, 5] for w in WORDS],
                "updated_at": now,
            }
            for d in range(30)
        ],
        DeadLetter: [
            {
                "id": uuid.uuid4().hex,
                "stage": "extraction",
                "run_id": runs[0],
                "body": {"n": n},
                "error": "fetch failed",
                "attempts": 3,
                "created_at": now,
            }
            for n in range(100)
        ],
    }


async def seed(db: Database, documents: int) -> dict[str, str]:
    """Bulk-insert the rows; returns ids the detail pages are measured on."""
    rows = _rows(documents)
    async with db.writer() as session:
        for model in (Source, Run, Document, StageResult, Insight, Rollup, DeadLetter):
            batch = rows[model]
            for start in range(0, len(batch), 2000):
                await session.execute(insert(model), batch[start : start + 2000])
    return {"run": rows[Run][0]["id"], "document": rows[Document][0]["id"]}


def pages(ids: dict[str, str]) -> dict[str, str]:
    return {
        BASELINE: "/no/such/page",
        "overview": "/",
        "functions": "/functions",
        "runs": "/runs",
        "run detail": f"/runs/{ids['run']}",
        "documents": "/documents",
        "documents ?q=": "/documents?q=harbour",
        "documents ?sentiment=": "/documents?sentiment=negative",
        "document detail": f"/documents/{ids['document']}",
        "sources": "/sources",
        "analytics": "/analytics",
        "dead letters": "/dead-letters",
    }


def slowest(spent: list[float]) -> float:
    """The 99th percentile in ms; the slowest request when there are too few for one."""
    if len(spent) < 100:
        return max(spent) * 1000
    return statistics.quantiles(spent, n=100, method="inclusive")[98] * 1000


async def measure(
    client: httpx.AsyncClient, targets: dict[str, str], requests: int, options: BenchOptions
) -> list[Measurement]:
    options.meter.start("dashboard", requests * len(targets))
    out = []
    for name, path in targets.items():
        for _ in range(3):  # warm-up: templates compiled, statements cached
            await client.get(path)
        spent = []
        for _ in range(requests):
            start = time.perf_counter()
            response = await client.get(path)
            spent.append(time.perf_counter() - start)
            expected = 404 if name == BASELINE else 200
            if response.status_code != expected:
                raise QuarryError(f"{path} answered {response.status_code}: {response.text[:200]}")
            options.meter.advance()
        out.append(
            Measurement(
                name=name,
                requests=requests,
                concurrency=1,
                rps=requests / sum(spent),
                p50_ms=statistics.median(spent) * 1000,
                p99_ms=slowest(spent),
            )
        )
    return out


async def bench_dashboard(
    options: BenchOptions, documents: int = 10_000, requests: int = 30
) -> Benchmark:
    with tempfile.TemporaryDirectory(prefix="quarry-bench-dashboard-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        settings = load_settings({"QUARRY_ENV": "test", "QUARRY_DATABASE_URL": url})
        await asyncio.to_thread(migrate.upgrade, url)
        runtime = build_runtime(settings, dispatcher=DroppingDispatcher())
        ports.install(runtime)
        try:
            ids = await seed(runtime.db, documents)
            from dashboard.app import app  # imported when run, so the CLI starts fast

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                measured = await measure(c, pages(ids), requests, options)
        finally:
            ports.install(None)
            await runtime.close()
    return to_benchmark(
        "dashboard", DESCRIPTION.format(documents=f"{documents:,}"), BASELINE, measured
    )

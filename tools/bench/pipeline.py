"""The pipeline benchmark: documents/s through all four stages on a generated site, in the
embedded platform and in the stack (1, 2 and 4 workers per stage), against the pure cores
alone (extraction + offline intelligence in one loop, no queue, database or fetch)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.config import Settings, load_settings
from shared.db.models import Run, StageResult
from shared.ports import Runtime
from tools.bench.load import BenchError
from tools.bench.report import Benchmark, BenchOptions, Measurement, to_benchmark
from tools.bench.sitegen import HOSTS, Site, served, write_site

BASELINE = "pure-cores"
FULL_PAGES = 1000
QUICK_PAGES = 100
RUN_DEADLINE_S = 900.0
DESCRIPTION = (
    "Documents per second (shown as req/s) through discovery → extraction → intelligence → "
    "analytics on a generated site (a sitemap of distinct ~330-word articles spread over "
    f"{HOSTS} loopback origins): the embedded platform (`embedded`, what `quarry dev` runs), "
    f"against the pure cores alone on the same pages (`{BASELINE}`: extract() and the offline "
    "analysis in one loop, no queue, database or fetch)."
)


def pages_for(options: BenchOptions) -> int:
    """1,000 pages in a full run; 100 in a quick one (which checks the harness)."""
    return FULL_PAGES if options.requests >= BenchOptions().requests else QUICK_PAGES


def _pure(paths: list[Path], options: BenchOptions) -> Measurement:
    from shared.pipeline.extract import extract
    from shared.pipeline.offline import analyse_offline

    options.meter.start(BASELINE, len(paths))
    spent: list[float] = []
    for path in paths:
        began = time.perf_counter()
        page = extract(path.read_text(), f"http://demo.quarry.test/a/{path.name}")
        analyse_offline(page.text, language_hint=page.language)
        spent.append(time.perf_counter() - began)
        options.meter.advance()
    return measurement(BASELINE, len(paths), sum(spent), spent)


def measurement(name: str, docs: int, elapsed: float, spent: list[float]) -> Measurement:
    spent = sorted(spent) or [elapsed]
    return Measurement(
        name=name,
        requests=docs,
        concurrency=1,
        rps=docs / elapsed,
        p50_ms=spent[len(spent) // 2] * 1000,
        p99_ms=spent[min(len(spent) - 1, int(len(spent) * 0.99))] * 1000,
    )


@dataclass(frozen=True)
class Finished:
    """A benchmark run: documents analysed, seconds to final, and each document's seconds
    from the run's start to its intelligence result."""

    documents: int
    elapsed_s: float
    latencies: list[float]


async def finished(session: AsyncSession, run: Run, elapsed_s: float) -> Finished:
    """The figures of a run that has become final."""
    stamps = await session.scalars(
        select(StageResult.updated_at).where(
            StageResult.run_id == run.id, StageResult.stage == "intelligence"
        )
    )
    latencies = [(stamp - run.created_at).total_seconds() for stamp in stamps]
    return Finished(len(latencies), elapsed_s, latencies)


def bench_settings(folder: Path, site: Site) -> Settings:
    return load_settings(
        {
            "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
            "QUARRY_FETCH_ALLOW_HOSTS": ",".join(site.hosts),
            "QUARRY_LOG_LEVEL": "WARNING",
        }
    )


async def _embedded(folder: Path, site: Site, pages: int, options: BenchOptions) -> Finished:
    from emulator.platform import embedded
    from shared.repo import sources
    from shared.runs import start_run
    from shared.schemas import SourceIn

    settings = bench_settings(folder, site)
    async with embedded(settings) as platform:
        rt = platform.runtime
        body = SourceIn.model_validate({"name": "bench", "kind": "sitemap", "url": site.sitemap})
        source = await sources.create(rt, body)
        options.meter.start("embedded", pages)
        began = time.perf_counter()
        run = await start_run(rt, source.id, trigger="api")
        done = 0
        deadline = began + RUN_DEADLINE_S
        while time.perf_counter() < deadline:
            async with rt.db.reader() as session:
                row = await session.get(Run, run.id, populate_existing=True)
            assert row is not None
            if row.state not in ("queued", "running"):
                if row.state != "succeeded":
                    raise BenchError(f"the benchmark run ended {row.state}: {row.error}")
                elapsed = time.perf_counter() - began
                async with rt.db.reader() as session:
                    return await finished(session, row, elapsed)
            now_done = await _documents_done(rt, run.id)
            for _ in range(now_done - done):
                options.meter.advance()
            done = now_done
            await asyncio.sleep(0.1)
        raise BenchError(f"the benchmark run did not finish within {RUN_DEADLINE_S:.0f} s")


async def _documents_done(rt: Runtime, run_id: str) -> int:
    async with rt.db.reader() as session:
        count = await session.scalar(
            select(func.count()).where(
                StageResult.run_id == run_id, StageResult.stage == "intelligence"
            )
        )
    return int(count or 0)


async def bench_pipeline(options: BenchOptions) -> Benchmark:
    pages = pages_for(options)
    with tempfile.TemporaryDirectory(prefix="quarry-bench-pipeline-") as tmp:
        folder = Path(tmp)
        paths = write_site(folder / "site", pages)
        measured = [await asyncio.to_thread(_pure, paths, options)]
        with served(folder / "site", pages) as site:
            done = await _embedded(folder, site, pages, options)
        measured.append(measurement("embedded", done.documents, done.elapsed_s, done.latencies))
    return to_benchmark("pipeline", DESCRIPTION, BASELINE, measured)

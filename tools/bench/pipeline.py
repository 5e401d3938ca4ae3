"""The pipeline benchmark: documents/s through all four stages on a generated site, in the
embedded platform and in the stack (1, 2 and 4 workers per stage), against the pure cores
alone (extraction + offline intelligence in one loop, no queue, database or fetch)."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.config import Settings
from shared.config_load import load_settings
from shared.db.models import Run, StageResult
from shared.flow import FLOW
from shared.handlers.memory import current_rss_mb
from tools.bench.load import BenchError
from tools.bench.report import Benchmark, BenchOptions, Measurement, to_benchmark
from tools.bench.sitegen import HOSTS, Site, served, write_site

BASELINE = "pure-cores"
FULL_PAGES = 1000
QUICK_PAGES = 100
RUN_DEADLINE_S = 900.0
DESCRIPTION = (
    "Documents per second through discovery → extraction → intelligence → "
    "analytics on a generated site (a sitemap of distinct ~330-word articles spread over "
    f"{HOSTS} loopback origins): the embedded platform (`embedded`, what `quarry dev` runs), "
    f"against the pure cores alone on the same pages (`{BASELINE}`: extract() and the offline "
    "analysis in one loop, no queue, database or fetch). `$ per 1,000` is the embedded run's "
    "estimated AWS cost per 1,000 documents from the invocation ledger: an estimate from local "
    "timings, at the prices of AWS_REGION (us-east-1 when unset)."
)


def pages_for(options: BenchOptions) -> int:
    """1,000 pages in a full run; 100 in a quick one (which checks the harness)."""
    return FULL_PAGES if options.requests >= BenchOptions().requests else QUICK_PAGES


def deadline_s(pages: int) -> float:
    """How long a run of `pages` may take before the benchmark gives up on it."""
    return max(RUN_DEADLINE_S, pages * 0.5)


@dataclass(frozen=True)
class Health:
    """What went wrong during the embedded run, from the process's own metrics (stage
    timeouts, retries, dead letters, failed stage invocations), and its memory."""

    troubles: dict[str, int]
    rss_start_mb: int
    rss_end_mb: int

    def line(self) -> str:
        counts = ", ".join(f"{n} {what}" for what, n in self.troubles.items())
        return f"{counts}; RSS {self.rss_start_mb} MiB at start, {self.rss_end_mb} MiB at end"


TROUBLES = {
    "quarry_function_timeouts_total": "timeouts",
    "quarry_queue_retries_total": "retries",
    "quarry_queue_dead_letters_total": "dead letters",
}


def troubles() -> Counter[str]:
    """Totals so far of what would show a stage struggling: timeouts, retries, dead letters
    and stage invocations that did not succeed."""
    out: Counter[str] = Counter({what: 0 for what in [*TROUBLES.values(), "failed invocations"]})
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name in TROUBLES:
                out[TROUBLES[sample.name]] += int(sample.value)
            elif (
                sample.name == "quarry_function_invocations_total"
                and sample.labels.get("trigger") == "sqs"
                and sample.labels.get("outcome") != "success"
            ):
                out["failed invocations"] += int(sample.value)
    return out


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
    health: Health | None = field(default=None, compare=False)
    cost_usd: float | None = None  # the run's estimated AWS cost, where it was metered


async def finished(session: AsyncSession, run: Run, elapsed_s: float) -> Finished:
    """The figures of a run that has become final."""
    stamps = await session.scalars(
        select(StageResult.updated_at).where(
            StageResult.run_id == run.id, StageResult.stage == FLOW.chain[-1].name
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
    from shared.metering.ledger import LEDGER
    from shared.repo import costs, sources
    from shared.runs import start_run
    from shared.schemas import SourceIn

    settings = bench_settings(folder, site)
    async with embedded(settings) as platform:
        rt = platform.runtime
        body = SourceIn.model_validate({"name": "bench", "kind": "sitemap", "url": site.sitemap})
        source = await sources.create(rt, body)
        options.meter.start("embedded", pages)
        before, rss_start = troubles(), current_rss_mb()
        began = time.perf_counter()
        run = await start_run(rt, source.id, trigger="api")
        done = 0
        limit = deadline_s(pages)
        while time.perf_counter() < began + limit:
            async with rt.db.reader() as session:  # the run's counters: one row, no counting
                row = await session.get(Run, run.id, populate_existing=True)
            assert row is not None
            if row.state not in ("queued", "running"):
                if row.state != "succeeded":
                    raise BenchError(f"the benchmark run ended {row.state}: {row.error}")
                elapsed = time.perf_counter() - began
                await platform.idle()  # the on_final stage (analytics), part of the cost too
                after = troubles()
                counts = {what: after[what] - before[what] for what in after}
                health = Health(counts, rss_start, current_rss_mb())
                await LEDGER.flush(rt.db)
                async with rt.db.reader() as session:
                    found = await finished(session, row, elapsed)
                    spent = row.spent_usd, row.spent_tokens
                    cost = await costs.for_run(session, run.id, *spent, rt.flow.names)
                return Finished(
                    found.documents, elapsed, found.latencies, health, cost.cost.total_usd
                )
            for _ in range(row.documents_final - done):
                options.meter.advance()
            done = row.documents_final
            await asyncio.sleep(0.1)
        raise BenchError(f"the benchmark run did not finish within {limit:.0f} s")


async def bench_pipeline(options: BenchOptions, pages: int | None = None) -> Benchmark:
    """The pipeline benchmark on `pages` generated pages (by default 1,000, 100 if quick);
    its description ends with the embedded run's health."""
    pages = pages or pages_for(options)
    with tempfile.TemporaryDirectory(prefix="quarry-bench-pipeline-") as tmp:
        folder = Path(tmp)
        paths = write_site(folder / "site", pages)
        measured = [await asyncio.to_thread(_pure, paths, options)]
        with served(folder / "site", pages) as site:
            done = await _embedded(folder, site, pages, options)
        metered = measurement("embedded", done.documents, done.elapsed_s, done.latencies)
        if done.cost_usd is not None and done.documents:
            per_1000 = done.cost_usd * 1000 / done.documents
            metered = dataclasses.replace(metered, cost_per_1000_usd=per_1000)
        measured.append(metered)
    health = f" Embedded run ({pages} pages): {done.health.line()}." if done.health else ""
    return to_benchmark("pipeline", DESCRIPTION + health, BASELINE, measured, unit="docs/s")

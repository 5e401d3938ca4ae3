"""The scaling benchmark: pipeline documents/s in the stack (`quarry up`) with 1, 2 and 4
workers per document stage (extraction and intelligence), each against one worker, and where
adding workers stops paying (the knee) with the reason this machine gives. `pg-drivers` runs
the same stack with one worker per stage on asyncpg and on psycopg, against psycopg."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared.config import PgDriver
from tools.bench.load import BenchError
from tools.bench.pipeline import RUN_DEADLINE_S, Finished, finished, measurement, pages_for
from tools.bench.report import Benchmark, BenchOptions, Measurement, to_benchmark
from tools.bench.sitegen import Site, served, write_site

ROOT = Path(__file__).resolve().parents[2]
UP_DEADLINE_S = 180.0
FULL_WORKERS = (1, 2, 4)
QUICK_WORKERS = (1, 2)
# Below this speed-up from doubling the workers, adding more stops paying.
KNEE_GAIN = 1.25
DESCRIPTION = (
    "Documents per second through the whole pipeline in the stack (`quarry up --api 1 --web 1`, "
    "Postgres primary + replica, Redis queue, Taskiq workers), with N workers for extraction "
    "and for intelligence (`stack-wN`), against one worker each (`stack-w1`), on the "
    "generated site of the pipeline benchmark."
)
DRIVERS_DESCRIPTION = (
    "Documents per second through the whole pipeline in the stack (as `scaling`'s `stack-w1`: "
    "one worker per stage) with every process's Postgres engines on asyncpg (`asyncpg`, the "
    "default) against the same stack on psycopg (`psycopg`, QUARRY_PG_DRIVER=psycopg), both "
    "with no prepared statements kept (as RDS Proxy needs)."
)


def knee(measured: list[Measurement], cores: int | None = None) -> str:
    """Where doubling the workers stops paying, and why, from the measured figures."""
    rates = sorted(
        ((int(m.name.removeprefix("stack-w")), m.rps) for m in measured), key=lambda x: x[0]
    )
    cores = cores or os.cpu_count() or 1
    for (fewer, slow), (more, fast) in itertools.pairwise(rates):
        if fast / slow < KNEE_GAIN:
            return (
                f"the knee is at {fewer} worker{'s' if fewer > 1 else ''} per stage: {more} give "
                f"{fast / slow:.2f}x of "
                f"{fewer}'s {slow:.1f} docs/s. This machine has {cores} CPU cores shared by "
                "every process of the stack (Postgres, Redis, nginx, API, workers), and fetches "
                "to each origin of the generated site take turns (per-host politeness), so "
                "workers beyond the cores or the origins mostly wait."
            )
    top, rate = rates[-1]
    return f"no knee up to {top} workers per stage ({rate:.1f} docs/s)."


class _Stack:
    """One `quarry up` in a scratch folder, stopped with `quarry down`."""

    def __init__(
        self, folder: Path, workers: int, hosts: tuple[str, ...], driver: PgDriver = "asyncpg"
    ) -> None:
        self.folder = folder
        self.driver = driver
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "QUARRY_FETCH_ALLOW_HOSTS": ",".join(hosts),
            "QUARRY_LOG_LEVEL": "WARNING",
            "QUARRY_PG_DRIVER": driver,
            # a throwaway stack on loopback that no person logs in to
            "QUARRY_INSECURE_ALLOW": "open-dashboard",
        }
        self.argv = [
            sys.executable, "-m", "cli.main", "up", "--api", "1", "--web", "1",
            "--no-reload", "--table", str(ROOT / "serverless.yml"),
            "--workers", f"extraction={workers}", "--workers", f"intelligence={workers}",
        ]  # fmt: skip
        self.proc: asyncio.subprocess.Process | None = None

    def state(self) -> dict[str, object]:
        path = self.folder / ".quarry/stack/stack.json"
        try:
            return dict(json.loads(path.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}  # not written yet, or caught while `quarry up` rewrites it

    def url(self, service: str) -> str:
        services = self.state()["services"]
        assert isinstance(services, dict)
        return str(services[service]["url"])

    async def start(self) -> None:
        with (self.folder / "up.log").open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + UP_DEADLINE_S
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise BenchError(f"quarry up exited: {self._tail()}")
            if self.state().get("ready") is True:
                return
            await asyncio.sleep(0.3)
        raise BenchError(f"timed out after {UP_DEADLINE_S:.0f} s waiting for quarry up to be ready")

    def _tail(self) -> str:
        return (self.folder / "up.log").read_text(errors="replace")[-2000:]

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # the supervisor stops every service in order
        try:
            await asyncio.wait_for(self.proc.wait(), 90)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def _run_once(stack: _Stack, site: Site, options: BenchOptions, name: str) -> Finished:
    """Start a run of the generated sitemap in the stack and wait until it is final."""
    from emulator.stack.secrets import stack_secrets
    from emulator.table import load_table
    from shared.composition import build_runtime
    from shared.config_load import load_settings
    from shared.db.models import Run
    from shared.repo import sources
    from shared.runs import start_run
    from shared.schemas import SourceIn

    settings = load_settings(
        {
            "QUARRY_ENV": "stack",
            "QUARRY_SECRET_KEY": stack_secrets(stack.folder / ".quarry/stack").secret_key,
            "QUARRY_INSECURE_ALLOW": "open-dashboard",
            "QUARRY_DATABASE_URL": stack.url("pg-primary"),
            "QUARRY_QUEUE": "redis",
            "QUARRY_REDIS_URL": stack.url("redis-queue"),
            "QUARRY_PG_DRIVER": stack.driver,
        }
    )
    rt = build_runtime(
        settings, stages=[f.name for f in load_table(ROOT / "serverless.yml").stages()]
    )
    await rt.start()
    try:
        body = SourceIn.model_validate({"name": "bench", "kind": "sitemap", "url": site.sitemap})
        source = await sources.create(rt, body)
        options.meter.start(name, 1)
        began = time.perf_counter()
        run = await start_run(rt, source.id, trigger="api")
        while time.perf_counter() - began < RUN_DEADLINE_S:
            async with rt.db.writer() as session:
                row = await session.get(Run, run.id)
                assert row is not None
                if row.state not in ("queued", "running"):
                    if row.state != "succeeded":
                        raise BenchError(f"the benchmark run ended {row.state}: {row.error}")
                    options.meter.advance()
                    return await finished(session, row, time.perf_counter() - began)
            await asyncio.sleep(0.2)
        raise BenchError(f"the benchmark run did not finish within {RUN_DEADLINE_S:.0f} s")
    finally:
        await rt.close()


async def _measure_stacks(
    options: BenchOptions, variants: list[tuple[str, int, PgDriver]]
) -> list[Measurement]:
    """One stack per (name, workers per stage, driver), one run of the generated site each."""
    pages = pages_for(options)
    measured: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="quarry-bench-scaling-") as tmp:
        folder = Path(tmp)
        os.chmod(folder, 0o755)  # Postgres runs as its own OS user; it must reach its data
        write_site(folder / "site", pages)
        with served(folder / "site", pages) as site:
            for name, n, driver in variants:
                (folder / name).mkdir()
                stack = _Stack(folder / name, n, site.hosts, driver)
                try:
                    await stack.start()
                    done = await _run_once(stack, site, options, name)
                finally:
                    await stack.stop()
                if done.documents != pages:
                    raise BenchError(f"{name}: {done.documents} of {pages} documents analysed")
                m = measurement(name, done.documents, done.elapsed_s, done.latencies)
                measured.append(dataclasses.replace(m, concurrency=n))
    return measured


async def bench_scaling(options: BenchOptions) -> Benchmark:
    full = pages_for(options) == pages_for(BenchOptions())
    counts = FULL_WORKERS if full else QUICK_WORKERS
    measured = await _measure_stacks(options, [(f"stack-w{n}", n, "asyncpg") for n in counts])
    bench = to_benchmark("scaling", DESCRIPTION, "stack-w1", measured, unit="docs/s")
    return bench.model_copy(update={"description": f"{DESCRIPTION} Finding: {knee(measured)}"})


async def bench_pg_drivers(options: BenchOptions) -> Benchmark:
    variants: list[tuple[str, int, PgDriver]] = [
        ("psycopg", 1, "psycopg"),
        ("asyncpg", 1, "asyncpg"),
    ]
    measured = await _measure_stacks(options, variants)
    return to_benchmark("pg-drivers", DRIVERS_DESCRIPTION, "psycopg", measured, unit="docs/s")

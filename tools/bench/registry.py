"""Every benchmark `quarry bench all` runs, by name; a new benchmark adds its line here."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime

from tools.bench.artefacts import bench_warm
from tools.bench.coldstart import bench_coldstart
from tools.bench.dashboard import bench_dashboard
from tools.bench.extraction import bench_extraction
from tools.bench.gateway import bench_gateway
from tools.bench.intelligence import bench_intelligence, bench_intelligence_offline
from tools.bench.offline import bench_offline
from tools.bench.pipeline import bench_pipeline
from tools.bench.repeat import repeated
from tools.bench.report import BenchFn, Benchmark, BenchOptions, Report
from tools.bench.scaling import bench_pg_drivers, bench_scaling
from tools.bench.stack import STACK

BENCHMARKS: dict[str, BenchFn] = {
    "gateway": bench_gateway,
    **STACK,
    "coldstart": bench_coldstart,
    "warm-invoke": bench_warm,
    "extraction": bench_extraction,
    "intelligence": bench_intelligence,
    "intelligence-offline": bench_intelligence_offline,
    "dashboard": lambda options: bench_dashboard(
        options, documents=10_000 if options.requests >= BenchOptions().requests else 1_000
    ),
    "pipeline": bench_pipeline,
    "scaling": bench_scaling,
    "pg-drivers": bench_pg_drivers,
    "serverless-offline": bench_offline,
}


async def run(
    names: list[str], options: BenchOptions, *, quick: bool = False, repetitions: int = 1
) -> Report:
    """Run the named benchmarks one after another (they would compete for the CPUs), each
    `repetitions` times in a row and reported as the median (tools.bench.repeat)."""
    return to_report(
        [await repeated(BENCHMARKS[name], options, repetitions) for name in names], quick=quick
    )


def to_report(results: list[Benchmark], *, quick: bool) -> Report:
    """Measured benchmarks with the time and machine they were measured on."""
    machine = (
        f"{platform.python_implementation()} {platform.python_version()} · "
        f"{platform.system()} {platform.machine()} · {os.cpu_count()} CPUs"
    )
    return Report(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=machine,
        quick=quick,
        benchmarks=results,
    )

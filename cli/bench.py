"""`quarry bench`: run benchmarks with a progress bar, print their ratios, write the report."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from cli.bench_report import profile, readme, run_all
from shared.errors import QuarryError
from tools.bench.display import ProgressMeter, echo_against, show
from tools.bench.report import Benchmark, BenchOptions, Report

bench_app = typer.Typer(
    help="Benchmarks, as ratios against a baseline measured in the same run.",
    no_args_is_help=True,
)
console = Console(stderr=True)


def _measure(names: list[str], options: BenchOptions, quick: bool, repetitions: int = 1) -> Report:
    from tools.bench.registry import run  # benchmarks import heavy modules: only when run

    job = lambda opts: run(names, opts, quick=quick, repetitions=repetitions)  # noqa: E731
    return _with_progress(job, options)


def _with_progress(
    job: Callable[[BenchOptions], Coroutine[Any, Any, Report]], options: BenchOptions
) -> Report:
    """Run a benchmark job with a progress bar; a QuarryError ends the command cleanly."""
    columns = (TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            meter = ProgressMeter(progress)
            return asyncio.run(job(dataclasses.replace(options, meter=meter)))
    except QuarryError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("stopped.")
        raise typer.Exit(130) from None


def _run_one(job: Coroutine[Any, Any, Benchmark]) -> Benchmark:
    """Run one benchmark outside the registry; a QuarryError ends the command cleanly."""
    try:
        return asyncio.run(job)
    except QuarryError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(2) from None


Requests = Annotated[int, typer.Option(min=1, help="Measured requests per variant.")]
Concurrency = Annotated[int, typer.Option(min=1, help="Requests in flight at once.")]


@bench_app.command()
def gateway(requests: Requests = 10000, concurrency: Concurrency = 16) -> None:
    """A trivial function through the Lambda-event path, direct ASGI, and bare uvicorn."""
    options = BenchOptions(requests=requests, concurrency=concurrency)
    show(_measure(["gateway"], options, quick=False))


@bench_app.command()
def stack(
    requests: Requests = 10000,
    concurrency: Concurrency = 16,
    quick: Annotated[bool, typer.Option(help="Small N: checks the harness, not speed.")] = False,
) -> None:
    """nginx → N API instances against bare uvicorn (N = 1, 2), and Redis stage dispatch."""
    from tools.bench.stack import STACK

    options = BenchOptions.quick() if quick else BenchOptions(requests, concurrency)
    show(_measure(list(STACK), options, quick=quick))


Quick = Annotated[bool, typer.Option(help="Small N: checks the harness, not speed.")]


@bench_app.command()
def pipeline(
    quick: Quick = False,
    pages: Annotated[
        int | None, typer.Option(min=10, help="Pages of the generated site (default 1,000).")
    ] = None,
) -> None:
    """Documents/s through all four stages on a generated site of 1,000 pages (100 with
    --quick) in the embedded platform, against the pure cores alone; then the embedded
    run's timeouts, retries, dead letters, failed invocations and RSS at start and end."""
    options = BenchOptions.quick() if quick else BenchOptions()
    if pages is None:
        report = _measure(["pipeline"], options, quick=quick)
    else:
        from tools.bench.pipeline import bench_pipeline
        from tools.bench.registry import to_report

        async def job(opts: BenchOptions) -> Report:
            return to_report([await bench_pipeline(opts, pages)], quick=quick)

        report = _with_progress(job, options)
    show(report)
    _, found, health = report.benchmarks[0].description.partition(" Embedded run ")
    if found:
        typer.echo(f"Embedded run {health}")


@bench_app.command()
def scaling(quick: Quick = False) -> None:
    """Pipeline documents/s in the stack with 1, 2 and 4 workers per stage (1 and 2 on 100
    pages with --quick), and where adding workers stops paying."""
    options = BenchOptions.quick() if quick else BenchOptions()
    report = _measure(["scaling"], options, quick=quick)
    show(report)
    typer.echo(report.benchmarks[0].description.rsplit("Finding: ", 1)[-1])


@bench_app.command("pg-drivers")
def pg_drivers(quick: Quick = False) -> None:
    """Pipeline documents/s in the stack (one worker per stage) with the Postgres engines on
    asyncpg against psycopg, in one run (1,000 pages; 100 with --quick)."""
    options = BenchOptions.quick() if quick else BenchOptions()
    show(_measure(["pg-drivers"], options, quick=quick))


@bench_app.command("serverless-offline")
def serverless_offline(requests: Requests = 10000, concurrency: Concurrency = 16) -> None:
    """Quarry's gateway against serverless-offline (installed from npm into .quarry/cache/)
    serving the same handler at the same concurrency; needs Node.js and npm."""
    options = BenchOptions(requests=requests, concurrency=concurrency)
    report = _measure(["serverless-offline"], options, quick=False)
    show(report)
    echo_against(
        report.benchmarks[0],
        lambda v, base: (
            f"{v.name}: {v.rps:.0f} req/s, p99 {v.p99_ms:.1f} ms · {base.name}: "
            f"{base.rps:.0f} req/s, p99 {base.p99_ms:.1f} ms · throughput ratio "
            f"{v.ratio:.2f}, p99 ratio {base.p99_ms / v.p99_ms:.2f} (higher is better)"
        ),
    )


@bench_app.command()
def coldstart(
    runs: Annotated[int, typer.Option(min=1, help="Fresh processes per function.")] = 5,
    quick: Annotated[bool, typer.Option(help="Two runs per function.")] = False,
) -> None:
    """Each function's cold start (fresh process → first response) with and without bytecode,
    and as an execution environment from its package, against its budget in
    infra/coldstart-budgets.toml (exits 1 when a function is over it); then warm invocations
    through the Lambda Runtime API against the in-process path."""
    from tools.bench.coldstart import over_budget

    options = BenchOptions(cold_runs=2 if quick else runs)
    report = _measure(["coldstart", "warm-invoke"], options, quick=quick)
    show(report)
    over = over_budget(report.benchmarks[0])
    for line in over:
        console.print(f"[bold red]over budget:[/] {line}")
    if over:
        raise typer.Exit(1)


@bench_app.command()
def extraction(
    dirs: Annotated[
        list[Path] | None,
        typer.Argument(help="Folders of .html / .html.gz pages (default: the test sites)."),
    ] = None,
    pages: Annotated[
        int, typer.Option(min=1, help="Pages extracted per variant (cycling the set).")
    ] = 1000,
) -> None:
    """Pages/s of Quarry's extraction core against bare trafilatura on the same pages."""
    from tools.bench.extraction import DIRS, PAGES_PER_REQUEST, bench_extraction
    from tools.bench.registry import to_report

    options = BenchOptions(requests=pages * PAGES_PER_REQUEST)
    bench = _run_one(bench_extraction(options, dirs or DIRS))
    show(to_report([bench], quick=False))
    echo_against(
        bench,
        lambda v, base: (
            f"{v.name}: {v.rps:.0f} pages/s · {base.name}: {base.rps:.0f} pages/s · "
            f"ratio {v.ratio:.2f}"
        ),
    )


@bench_app.command()
def intelligence(
    quick: Annotated[bool, typer.Option(help="Fewer documents: checks the harness.")] = False,
    latency_ms: Annotated[
        float, typer.Option(min=0.001, help="How long the simulated provider takes per call.")
    ] = BenchOptions.provider_latency_ms,
) -> None:
    """Documents/s of a provider served on loopback (OpenAI's protocol, LATENCY_MS a call) at
    concurrency 1, 8 and 32, as a speed-up over 1 and as a share of the ideal for that
    concurrency; and of the offline default against its cores called directly."""
    from tools.bench.intelligence import CALLS, LATENCY

    base = BenchOptions.quick() if quick else BenchOptions()
    options = dataclasses.replace(base, provider_latency_ms=latency_ms)
    report = _measure(["intelligence", "intelligence-offline"], options, quick=quick)
    show(report)
    provider, offline = report.benchmarks
    typer.echo(
        f"premise: the provider answers each call after {provider.parameters[LATENCY]:g} ms; "
        f"{provider.parameters[CALLS]:g} call(s) per document"
    )
    for v in provider.variants:
        typer.echo(
            f"{v.name}: {v.rps:.1f} documents/s at concurrency {v.concurrency} · "
            f"{v.ratio:.2f}× {provider.baseline} (ideal {v.concurrency}×) · "
            f"{v.of_ideal or 0:.2f} of the ideal {v.ideal_rps or 0:.1f} documents/s"
        )
    echo_against(
        offline,
        lambda v, base: (
            f"{v.name}: {v.rps:.0f} documents/s · {base.name}: {base.rps:.0f} documents/s · "
            f"ratio {v.ratio:.2f}"
        ),
    )


@bench_app.command()
def dashboard(
    documents: Annotated[int, typer.Option(min=1, help="Documents seeded into SQLite.")] = 10_000,
    requests: Annotated[int, typer.Option(min=1, help="Measured requests per page.")] = 30,
) -> None:
    """Server-side render time of each dashboard page with N documents in a throwaway SQLite
    database, against the 404 page (the layout alone) measured in the same run."""
    from tools.bench.dashboard import bench_dashboard
    from tools.bench.registry import to_report

    bench = _run_one(bench_dashboard(BenchOptions(), documents, requests))
    show(to_report([bench], quick=False))
    echo_against(
        bench,
        lambda v, base: (
            f"{v.name}: {v.p50_ms:.1f} ms median · {base.p50_ms:.1f} ms for the baseline · "
            f"{v.p50_ms / base.p50_ms:.1f}× its time"
        ),
    )


@bench_app.command()
def load(
    rate: Annotated[float, typer.Option(min=0.1, help="Requests per second, held fixed.")] = 40.0,
    duration: Annotated[float, typer.Option(min=0.1, help="Seconds of load.")] = 30.0,
    mix: Annotated[str, typer.Option(help="Shares READS:WRITES:WEBHOOKS.")] = "70:20:10",
    api_key: Annotated[
        str | None, typer.Option(envvar="QUARRY_API_KEY", help="An API key with write scope.")
    ] = None,
    state: Annotated[Path, typer.Option(help="The stack's state folder.")] = Path(".quarry/stack"),
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report here.")] = None,
) -> None:
    """The running stack (`quarry up`) through nginx: reads, writes and signed webhooks at a
    fixed rate for a fixed time; error rate, p50/p99 latency and each process's memory growth
    (RSS before and after, from /proc). Stays under nginx's 50 r/s limit by default."""
    from tools.bench.load import BenchError
    from tools.bench.stackload import Mix, render, run_load

    path = state / "stack.json"
    try:
        if not path.exists():
            raise BenchError(f"no running stack: {path} does not exist; run `quarry up` first")
        report = run_load(json.loads(path.read_text()), api_key, Mix.parse(mix), rate, duration)
    except QuarryError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(2) from None
    out = Console()
    for part in render(report):
        out.print(part)
    if json_out is not None:
        json_out.write_text(report.to_json())


bench_app.command("all")(run_all)
bench_app.command()(readme)
bench_app.command()(profile)

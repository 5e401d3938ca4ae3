"""`quarry bench all` and `quarry bench readme`: the report of one run, and README from it;
`quarry bench profile`: where the stack's time goes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shared.errors import QuarryError
from tools.bench.checks import validate
from tools.bench.display import show
from tools.bench.repeat import REPETITIONS
from tools.bench.report import BenchOptions

console = Console(stderr=True)


def run_all(
    quick: Annotated[
        bool, typer.Option(help="Small N (under a minute): checks the harness, not speed.")
    ] = False,
    out: Annotated[
        Path,
        typer.Option(
            help="Report path without suffix: writes OUT.md and OUT.json (the default is the"
            " committed report that README's figures come from; see `quarry bench readme`)."
        ),
    ] = Path("docs/bench/report"),
    skip: Annotated[
        list[str] | None, typer.Option(help="Leave out this benchmark (repeatable).")
    ] = None,
    repetitions: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=f"Runs of each benchmark; its ratio is their median, with min and max "
            f"(default {REPETITIONS}; 1 with --quick, which checks the harness).",
        ),
    ] = None,
) -> None:
    """Run every benchmark REPETITIONS times, print the ratios (medians of the repetitions,
    with their range), write and validate the report with issue #20's targets met or missed."""
    from tools.bench.coldstart import over_budget
    from tools.bench.registry import BENCHMARKS

    unknown = sorted(set(skip or ()) - set(BENCHMARKS))
    if unknown:
        console.print(
            f"[bold red]error:[/] no benchmark named {', '.join(unknown)}; "
            f"expected one of {', '.join(BENCHMARKS)}"
        )
        raise typer.Exit(2)
    options = BenchOptions.quick() if quick else BenchOptions()
    names = [name for name in BENCHMARKS if name not in (skip or ())]
    from cli.bench import _measure  # the progress bar and clean errors

    reps = repetitions or (1 if quick else REPETITIONS)
    report = _measure(names, options, quick=quick, repetitions=reps)
    report = report.model_copy(update={"skipped": [n for n in BENCHMARKS if n not in names]})
    show(report)
    json_path = out.with_name(out.name + ".json")
    md_path = out.with_name(out.name + ".md")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(report.to_json())
    md_path.write_text(report.to_markdown())
    try:
        validate(json.loads(json_path.read_text()))
    except ValueError as exc:
        console.print(f"[bold red]the report is not valid:[/] {exc}")
        raise typer.Exit(1) from None
    for bench in report.benchmarks:  # a noisy quick run only warns; `bench coldstart` fails
        for line in over_budget(bench) if bench.kind == "coldstart" else []:
            console.print(f"[yellow]cold start over budget:[/] {line}")
    console.print(f"wrote {md_path} and {json_path}")


def readme(
    report: Annotated[
        Path, typer.Option(help="Report path without suffix, as `quarry bench all --out` took.")
    ] = Path("docs/bench/report"),
    path: Annotated[Path, typer.Option("--readme", help="The README to rewrite.")] = Path(
        "README.md"
    ),
) -> None:
    """Rewrite README's Benchmarks table from one committed report (its `bench` block)."""
    from tools.bench.readme import BLOCK, render
    from tools.readme_blocks import BlockError, write_block

    json_path = report.with_name(report.name + ".json")
    try:
        checked = validate(json.loads(json_path.read_text(encoding="utf-8")))
        write_block(path, BLOCK, render(checked, report))
    except (OSError, ValueError, BlockError) as exc:
        console.print(f"[bold red]error:[/] cannot write {path} from {json_path}: {exc}")
        raise typer.Exit(2) from None
    typer.echo(f"wrote the {BLOCK} block of {path} from {json_path}")


def profile(
    pages: Annotated[int, typer.Option(min=10, help="Pages of the generated site.")] = 300,
    out: Annotated[Path, typer.Option(help="Folder for the workers' .prof files.")] = Path(
        ".quarry/profile"
    ),
) -> None:
    """Where the stack's time goes: one pipeline run through the stack with each stage
    worker under cProfile; per stage, busy time by owner and the top five own-time costs."""
    from tools.bench.profile import profile_stack, to_markdown

    try:
        profiles = profile_stack(pages, out)
    except QuarryError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(2) from None
    typer.echo(to_markdown(profiles, pages))
    typer.echo(f"profiles in {out} (open one with `python -m pstats FILE`)")

"""How benchmark results look in a terminal: progress bars while measuring, a table per
benchmark, and one line per variant set against its baseline."""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table as RichTable

from tools.bench.report import Benchmark, Report, Variant, verdict


class ProgressMeter:
    """A rich progress bar per measured variant."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, label: str, total: int) -> None:
        self.task = self.progress.add_task(label, total=total)

    def advance(self) -> None:
        if self.task is not None:
            self.progress.advance(self.task)


def show_coldstart(bench: Benchmark) -> RichTable:
    table = RichTable(
        "function",
        "runs",
        "median ms",
        "slowest ms",
        "ratio",
        "budget ms",
        "budget",
        title=f"{bench.name} (fresh process → first response; ratio = {bench.baseline} ÷ it)",
    )
    for v in bench.variants:
        shown = "baseline" if v.name == bench.baseline else verdict(v)
        style = {"within": "green", "over": "bold red", "no budget": "bold red"}.get(shown, "")
        table.add_row(
            v.name,
            str(v.requests),
            f"{v.p50_ms:.0f}",
            f"{v.p99_ms:.0f}",
            f"{v.ratio:.3f}",
            "" if v.budget_ms is None else f"{v.budget_ms:.0f}",
            f"[{style}]{shown}[/]" if style else shown,
        )
    return table


def show(report: Report) -> None:
    out = Console()
    for bench in report.benchmarks:
        if bench.kind == "coldstart":
            out.print(show_coldstart(bench))
            continue
        ideal = any(v.ideal_rps is not None for v in bench.variants)
        premise = "; ".join(f"{k} {v:g}" for k, v in bench.parameters.items())
        table = RichTable(
            "variant",
            "requests",
            "concurrency",
            bench.unit,
            "p50 ms",
            "p99 ms",
            "ratio",
            *(["of ideal"] if ideal else []),
            title=f"{bench.name} (ratio = {bench.unit} ÷ {bench.baseline})"
            + (f"\n{premise}" if premise else ""),
        )
        for v in bench.variants:
            share = v.of_ideal
            table.add_row(
                v.name,
                str(v.requests),
                str(v.concurrency),
                f"{v.rps:.0f}",
                f"{v.p50_ms:.2f}",
                f"{v.p99_ms:.2f}",
                f"{v.ratio:.2f}",
                *([("–" if share is None else f"{share:.2f}")] if ideal else []),
            )
        out.print(table)


def echo_against(bench: Benchmark, line: Callable[[Variant, Variant], str]) -> None:
    """One line per variant other than the baseline: `line(variant, baseline)`."""
    base = next(v for v in bench.variants if v.name == bench.baseline)
    for v in bench.variants:
        if v is not base:
            typer.echo(line(v, base))

"""How benchmark results look in a terminal: progress bars while measuring, a table per
benchmark, and one line per variant set against its baseline."""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Column
from rich.table import Table as RichTable

from tools.bench.coldtable import COLDSTART_COLUMNS, coldstart_rows
from tools.bench.ratio import ratio_cell
from tools.bench.report import Benchmark, Report, Variant, cost_cell
from tools.bench.targets import figure_of, verdict_of


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
        *COLDSTART_COLUMNS,
        title=f"{bench.name} (fresh process → first response; ratio = {bench.baseline} ÷ it)",
    )
    styles = {"within": "green", "over": "bold red", "no budget": "bold red"}
    for row in coldstart_rows(bench):
        shown = row[-1]
        style = styles.get(shown, "")
        table.add_row(*row[:-1], f"[{style}]{shown}[/]" if style else shown)
    return table


def show(report: Report) -> None:
    out = Console()
    for bench in report.benchmarks:
        if bench.kind == "coldstart":
            out.print(show_coldstart(bench))
            continue
        ideal = any(v.ideal_rps is not None for v in bench.variants)
        costed = any(v.cost_per_1000_usd is not None for v in bench.variants)
        premise = "; ".join(f"{k} {v:g}" for k, v in bench.parameters.items())
        # The variant's name whole (other columns give way on a narrow terminal): it is
        # what a reader looks up in the report.
        widest = max(len(v.name) for v in bench.variants)
        table = RichTable(
            Column("variant", min_width=widest, no_wrap=True),
            "requests",
            "concurrency",
            bench.unit,
            "p50 ms",
            "p99 ms",
            "ratio",
            *(["p99 ×"] if bench.p99_against_baseline else []),
            *(["of ideal"] if ideal else []),
            *(["$ per 1,000 (est.)"] if costed else []),
            title=f"{bench.name} (ratio = {bench.unit} ÷ {bench.baseline}"
            + (f"; median of {bench.repetitions} (min–max)" if bench.repetitions > 1 else "")
            + ")"
            + (f"\n{premise}" if premise else ""),
        )
        for v in bench.variants:
            share, tail = v.of_ideal, bench.p99_ratio(v)
            table.add_row(
                v.name,
                str(v.requests),
                str(v.concurrency),
                f"{v.rps:.0f}",
                f"{v.p50_ms:.2f}",
                f"{v.p99_ms:.2f}",
                ratio_cell(v),
                *([] if tail is None else [f"{tail:.2f}"]),
                *([("–" if share is None else f"{share:.2f}")] if ideal else []),
                *([cost_cell(v)] if costed else []),
            )
        out.print(table)
    measured = [t for t in report.targets if t.met is not None]
    if measured:
        targets = RichTable("target", "measured", "met", title="issue #20's targets")
        for t in measured:
            style = "green" if t.met else "bold red"
            targets.add_row(t.target, figure_of(t), f"[{style}]{verdict_of(t)}[/]")
        out.print(targets)


def echo_against(bench: Benchmark, line: Callable[[Variant, Variant], str]) -> None:
    """One line per variant other than the baseline: `line(variant, baseline)`."""
    base = next(v for v in bench.variants if v.name == bench.baseline)
    for v in bench.variants:
        if v is not base:
            typer.echo(line(v, base))

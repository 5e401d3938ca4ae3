"""README's Benchmarks table, written from the committed report of one run.

`quarry bench all` writes `docs/bench/report.json` and `.md`; `quarry bench readme` turns the
JSON into the table between README's `bench` markers, and a test compares the two, so README
quotes no figure that the committed report does not hold.
"""

from __future__ import annotations

from pathlib import Path

from tools.bench.coldtable import verdict
from tools.bench.ratio import ratio_cell
from tools.bench.report import Benchmark, Report, Variant
from tools.bench.targets import targets_markdown

REPORT = Path("docs/bench/report")  # .json and .md beside each other
BLOCK = "bench"


def render(report: Report, source: Path = REPORT) -> str:
    """The README block: where the figures come from, then one row per measured variant."""
    run = "`quarry bench all --quick`" if report.quick else "`quarry bench all`"
    lines = [
        f"All figures below come from one run, `{source}.json` (its table: `{source}.md`), "
        f"written by {run} on {report.created} · {report.machine}.",
    ]
    if report.skipped:
        lines.append(f"Left out of this run: {', '.join(report.skipped)}.")
    if report.quick:
        lines.append(
            "**This is a quick run**: it checks the harness; its figures are not speed "
            "measurements and must not be read as such."
        )
    lines += [
        "",
        "| benchmark | variant | measured | baseline (same run) | ratio |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for bench in report.benchmarks:
        base = next(v for v in bench.variants if v.name == bench.baseline)
        lines += [_row(bench, v, base) for v in bench.variants if v is not base]
    premises = [
        f"{bench.name}: " + ", ".join(f"{k} {v:g}" for k, v in bench.parameters.items())
        for bench in report.benchmarks
        if bench.parameters
    ]
    findings = [
        f"{bench.name}: {bench.description.rsplit('Finding: ', 1)[1]}"
        for bench in report.benchmarks
        if "Finding: " in bench.description
    ]
    if premises:
        lines += ["", "Premises of the run: " + "; ".join(premises) + "."]
    if findings:
        lines += ["", "Findings the benchmarks state: " + " ".join(findings)]
    repeated = {b.repetitions for b in report.benchmarks if b.repetitions > 1}
    if repeated:
        times = " or ".join(str(n) for n in sorted(repeated))
        lines += [
            "",
            f"Each benchmark ran {times} times in a row: a ratio is the median of its "
            "repetitions' ratios, lowest–highest in brackets; the figures are their medians.",
        ]
    return "\n".join([*lines, "", *targets_markdown(report.targets)[2:]]).rstrip("\n")


def _row(bench: Benchmark, v: Variant, base: Variant) -> str:
    if bench.kind == "coldstart":
        budget = "no budget" if v.budget_ms is None else f"budget {v.budget_ms:,.0f} ms"
        return (
            f"| {bench.name} | {v.name} | {v.p50_ms:,.0f} ms median | {base.name}: "
            f"{base.p50_ms:,.0f} ms | {ratio_cell(v, 3)} · {budget}: {verdict(v)} |"
        )
    share, tail = v.of_ideal, bench.p99_ratio(v)
    ratio = ratio_cell(v) + ("" if share is None else f" · {share:.2f} of ideal")
    ratio += "" if tail is None else f" · p99 {tail:.2f}×"
    return (
        f"| {bench.name} | {v.name} (c={v.concurrency}) | {v.rps:,.0f} {bench.unit} | "
        f"{base.name} (c={base.concurrency}): {base.rps:,.0f} {bench.unit} | {ratio} |"
    )

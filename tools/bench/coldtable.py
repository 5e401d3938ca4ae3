"""The cold-start table of the benchmark report: one row per fresh-process start, against the
same function's compiled start and its budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.bench.ratio import ratio_cell

if TYPE_CHECKING:
    from tools.bench.report import Benchmark, Variant


def verdict(v: Variant) -> str:
    """A cold start against its budget: within, over, or no budget (the baseline has none)."""
    if v.budget_ms is None:
        return "no budget"
    return "within" if v.p50_ms <= v.budget_ms else "over"


COMPILED = "bytecode"  # the cold start that budgets hold for: code compiled as shipped
COLDSTART_COLUMNS = (
    "function",
    "start",
    "bytecode",
    "runs",
    "median ms",
    "slowest ms",
    "ratio",
    "× bytecode",
    "budget ms",
    "budget",
)


def coldstart_rows(bench: Benchmark) -> list[tuple[str, ...]]:
    """The cold-start table, one row per variant: the function, how it started, the modules of
    its own code that had bytecode, its figures, its median against the same function's
    compiled start (× bytecode), and its budget."""
    compiled = {
        v.start.function: v.p50_ms for v in bench.variants if v.start and v.start.how == COMPILED
    }
    rows: list[tuple[str, ...]] = []
    for v in bench.variants:
        start = v.start
        against = compiled.get(start.function) if start else None
        shown = "baseline" if v.name == bench.baseline else verdict(v)
        if start is not None and start.how != COMPILED and v.budget_ms is None:
            shown = ""  # budgets hold for compiled starts only
        rows.append(
            (
                start.function if start else v.name,
                start.how if start else "",
                f"{start.compiled}/{start.modules}" if start and start.modules is not None else "",
                str(v.requests),
                f"{v.p50_ms:.0f}",
                f"{v.p99_ms:.0f}",
                ratio_cell(v, 3),
                f"{v.p50_ms / against:.2f}" if against else "",
                "" if v.budget_ms is None else f"{v.budget_ms:.0f}",
                shown,
            )
        )
    return rows


def coldstart_markdown(bench: Benchmark) -> list[str]:
    lines = [
        f"## {bench.name}",
        "",
        bench.description,
        "",
        "| " + " | ".join(COLDSTART_COLUMNS) + " |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in coldstart_rows(bench)]
    return [*lines, ""]

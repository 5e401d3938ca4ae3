"""Issue #20's targets, each read from the benchmarks of one report and marked met or missed;
a target whose benchmark the run left out is marked not measured. The report derives them
whenever it is written or read, so they never disagree with its figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from tools.bench.report import Benchmark, Variant

# The names the targets read, as the benchmarks write them (a unit test checks each against
# the constant its benchmark module defines).
PIPELINE, PURE, EMBEDDED = "pipeline", "pure-cores", "embedded"
SCALING, ONE_WORKER, TWO_WORKERS = "scaling", "stack-w1", "stack-w2"
GATEWAY, EVENT_PATH, BARE_UVICORN = "gateway", "gateway-event", "uvicorn-fastapi"
DISPATCH, QUARRY_DISPATCH = "stack-dispatch", "quarry-dispatch"
EXTRACTION, EXTRACT = "extraction", "quarry-extract"

Found = Callable[[str, str], "Variant | None"]


@dataclass(frozen=True)
class Target:
    text: str
    bound: float
    at_least: bool  # met when the figure is >= bound; else when it is <= bound
    unit: str  # "×" for a ratio, "ms"
    figure: Callable[[Found], float | None]


def _ratio(bench: str, variant: str) -> Callable[[Found], float | None]:
    def figure(find: Found) -> float | None:
        v = find(bench, variant)
        return None if v is None else v.ratio

    return figure


def _between(
    num: tuple[str, str], den: tuple[str, str], key: str
) -> Callable[[Found], float | None]:
    def figure(find: Found) -> float | None:
        a, b = find(*num), find(*den)
        return None if a is None or b is None else getattr(a, key) / getattr(b, key)

    return figure


def _dispatch_p99(find: Found) -> float | None:
    v = find(DISPATCH, QUARRY_DISPATCH)
    return None if v is None else v.p99_ms


TARGETS = (
    Target(
        "embedded pipeline ≥ 0.5× the pure cores (1,000 pages in a full run)",
        0.5, True, "×", _ratio(PIPELINE, EMBEDDED),
    ),
    Target(
        "stack, one worker per stage ≥ 0.5× the pure cores",
        0.5, True, "×", _between((SCALING, ONE_WORKER), (PIPELINE, PURE), "rps"),
    ),
    Target(
        "stack, two workers per stage ≥ 0.9× one",
        0.9, True, "×", _ratio(SCALING, TWO_WORKERS),
    ),
    Target(
        "gateway Lambda-event path ≥ 0.6× bare uvicorn",
        0.6, True, "×", _ratio(GATEWAY, EVENT_PATH),
    ),
    Target(
        "gateway Lambda-event path p99 ≤ 2× bare uvicorn's",
        2.0, False, "×", _between((GATEWAY, EVENT_PATH), (GATEWAY, BARE_UVICORN), "p99_ms"),
    ),
    Target(
        "stage dispatch enqueue → start p99 ≤ 15 ms through Redis",
        15.0, False, "ms", _dispatch_p99,
    ),
    Target(
        "extraction core ≥ 0.95× bare trafilatura",
        0.95, True, "×", _ratio(EXTRACTION, EXTRACT),
    ),
)  # fmt: skip


class TargetResult(BaseModel):
    target: str
    bound: float
    unit: str
    measured: float | None  # None: the run did not measure it
    met: bool | None


def evaluate(benchmarks: list[Benchmark]) -> list[TargetResult]:
    by_name = {b.name: b for b in benchmarks}

    def find(bench: str, variant: str) -> Variant | None:
        found = by_name.get(bench)
        return next((v for v in found.variants if v.name == variant), None) if found else None

    results: list[TargetResult] = []
    for t in TARGETS:
        value = t.figure(find)
        met = None if value is None else (value >= t.bound if t.at_least else value <= t.bound)
        results.append(
            TargetResult(target=t.text, bound=t.bound, unit=t.unit, measured=value, met=met)
        )
    return results


def verdict_of(result: TargetResult) -> str:
    return {True: "met", False: "missed", None: "not measured"}[result.met]


def figure_of(result: TargetResult) -> str:
    if result.measured is None:
        return "–"
    return f"{result.measured:.2f}{'×' if result.unit == '×' else ' ' + result.unit}"


def targets_markdown(results: list[TargetResult]) -> list[str]:
    """The targets as a Markdown table, with the heading the report gives it."""
    lines = [
        "## Targets (issue #20)",
        "",
        "Issue #20's targets, each read from this run's figures (medians where repeated).",
        "",
        "| target | measured | met |",
        "| --- | ---: | --- |",
    ]
    lines += [f"| {r.target} | {figure_of(r)} | {verdict_of(r)} |" for r in results]
    return [*lines, ""]

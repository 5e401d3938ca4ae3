"""A benchmark measured several times, as one: each variant's ratio is the median of the
repetitions' ratios with the lowest and highest beside it, and its figures (throughput, p50,
p99, cost) are the medians of the repetitions' figures. `quarry bench all` runs three."""

from __future__ import annotations

import statistics

from tools.bench.report import BenchFn, Benchmark, BenchOptions, Variant

REPETITIONS = 3


async def repeated(fn: BenchFn, options: BenchOptions, repetitions: int) -> Benchmark:
    """Run `fn` `repetitions` times, one after another, and combine the results."""
    return combine([await fn(options) for _ in range(repetitions)])


def combine(runs: list[Benchmark]) -> Benchmark:
    """One benchmark from its repetitions (a single one is returned as it is). The
    description, with any finding or health line, is the median repetition's: the one whose
    first variant other than the baseline has the median ratio."""
    if len(runs) == 1:
        return runs[0]
    first = runs[0]
    names = [v.name for v in first.variants]
    for run in runs[1:]:
        if [v.name for v in run.variants] != names or run.baseline != first.baseline:
            raise ValueError(f"benchmark {first.name!r}: its repetitions measured other variants")
    variants = [
        _median_variant([run.variants[i] for run in runs], is_base=name == first.baseline)
        for i, name in enumerate(names)
    ]
    probe = next((i for i, n in enumerate(names) if n != first.baseline), 0)
    ordered = sorted(runs, key=lambda run: run.variants[probe].ratio)
    middle = ordered[(len(ordered) - 1) // 2]
    return middle.model_copy(update={"variants": variants, "repetitions": len(runs)})


def _median_variant(each: list[Variant], *, is_base: bool) -> Variant:
    """The baseline's ratio is 1 in every repetition: it gets no range."""
    ratios = [v.ratio for v in each]
    costs = [v.cost_per_1000_usd for v in each if v.cost_per_1000_usd is not None]
    return each[0].model_copy(
        update={
            "rps": statistics.median(v.rps for v in each),
            "p50_ms": statistics.median(v.p50_ms for v in each),
            "p99_ms": statistics.median(v.p99_ms for v in each),
            "ratio": statistics.median(ratios),
            "ratio_min": None if is_base else min(ratios),
            "ratio_max": None if is_base else max(ratios),
            "cost_per_1000_usd": statistics.median(costs) if costs else None,
        }
    )

"""The benchmark report: measured variants as ratios to a baseline, as JSON and Markdown."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ValidationError


class Meter(Protocol):
    """Progress reporting for a running benchmark (a rich progress bar, or nothing)."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self) -> None: ...


class SilentMeter:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


@dataclass(frozen=True)
class BenchOptions:
    """How much load each variant gets: measured requests after a warm-up, at a concurrency;
    and how many fresh processes each function gets in the cold-start benchmark."""

    requests: int = 10000
    concurrency: int = 16
    warmup: int = 500
    meter: Meter = field(default_factory=SilentMeter)
    cold_runs: int = 5

    @classmethod
    def quick(cls, meter: Meter | None = None) -> BenchOptions:
        return cls(
            requests=300, concurrency=16, warmup=50, meter=meter or SilentMeter(), cold_runs=1
        )


@dataclass(frozen=True)
class Measurement:
    """One variant's raw figures, before it is set against the baseline."""

    name: str
    requests: int
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    budget_ms: float | None = None


class Variant(BaseModel):
    name: str
    requests: int
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    ratio: float
    budget_ms: float | None = None


class Benchmark(BaseModel):
    name: str
    description: str
    baseline: str
    variants: list[Variant]
    # coldstart: requests are runs, p50/p99 the median and slowest start, rps starts per second
    kind: Literal["throughput", "coldstart"] = "throughput"


class Report(BaseModel):
    created: str
    machine: str
    quick: bool
    benchmarks: list[Benchmark]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    def to_markdown(self) -> str:
        lines = [
            "# Quarry benchmarks",
            "",
            f"{self.created} · {self.machine}" + (" · quick run" if self.quick else ""),
            "",
        ]
        for bench in self.benchmarks:
            if bench.kind == "coldstart":
                lines += _coldstart_markdown(bench)
                continue
            lines += [
                f"## {bench.name}",
                "",
                bench.description,
                "",
                "| variant | requests | concurrency | req/s | p50 ms | p99 ms | ratio |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            ]
            for v in bench.variants:
                lines.append(
                    f"| {v.name} | {v.requests} | {v.concurrency} | {v.rps:.0f} "
                    f"| {v.p50_ms:.2f} | {v.p99_ms:.2f} | {v.ratio:.2f} |"
                )
            lines += [
                "",
                f"ratio = req/s ÷ req/s of `{bench.baseline}`, measured in the same run.",
                "",
            ]
        return "\n".join(lines)


def verdict(v: Variant) -> str:
    """A cold start against its budget: within, over, or no budget (the baseline has none)."""
    if v.budget_ms is None:
        return "no budget"
    return "within" if v.p50_ms <= v.budget_ms else "over"


def _coldstart_markdown(bench: Benchmark) -> list[str]:
    lines = [
        f"## {bench.name}",
        "",
        bench.description,
        "",
        "| function | runs | median ms | slowest ms | ratio | budget ms | budget |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for v in bench.variants:
        budget = "" if v.budget_ms is None else f"{v.budget_ms:.0f}"
        shown = "baseline" if v.name == bench.baseline else verdict(v)
        lines.append(
            f"| {v.name} | {v.requests} | {v.p50_ms:.0f} | {v.p99_ms:.0f} | {v.ratio:.3f} "
            f"| {budget} | {shown} |"
        )
    return [*lines, ""]


BenchFn = Callable[[BenchOptions], Awaitable[Benchmark]]


def to_benchmark(
    name: str,
    description: str,
    baseline: str,
    measured: list[Measurement],
    *,
    kind: Literal["throughput", "coldstart"] = "throughput",
) -> Benchmark:
    """Set every measured variant against the baseline's requests per second."""
    base = next((m for m in measured if m.name == baseline), None)
    if base is None:
        raise ValueError(f"benchmark {name!r}: baseline {baseline!r} was not measured")
    variants = [
        Variant(
            name=m.name,
            requests=m.requests,
            concurrency=m.concurrency,
            rps=m.rps,
            p50_ms=m.p50_ms,
            p99_ms=m.p99_ms,
            ratio=1.0 if m is base else m.rps / base.rps,
            budget_ms=m.budget_ms,
        )
        for m in measured
    ]
    return Benchmark(
        name=name, description=description, baseline=baseline, variants=variants, kind=kind
    )


def _positive(where: str, key: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{where}: {key} is {value!r}; expected a finite number above 0")


def validate(report: Report | Mapping[str, Any]) -> Report:
    """Check a report is whole and every figure and ratio is a finite positive number."""
    data = report.model_dump() if isinstance(report, Report) else report
    try:
        checked = Report.model_validate(data, strict=False)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ValueError(f"the report is malformed: {problems}") from exc
    if not checked.benchmarks:
        raise ValueError("the report has no benchmarks")
    for bench in checked.benchmarks:
        names = [v.name for v in bench.variants]
        if bench.baseline not in names:
            raise ValueError(f"benchmark {bench.name!r}: baseline {bench.baseline!r} is missing")
        for v in bench.variants:
            where = f"benchmark {bench.name!r}, variant {v.name!r}"
            for key in ("rps", "p50_ms", "p99_ms", "ratio"):
                _positive(where, key, getattr(v, key))
            if v.budget_ms is not None:
                _positive(where, "budget_ms", v.budget_ms)
            if v.requests <= 0 or v.concurrency <= 0:
                raise ValueError(f"{where}: requests and concurrency must be above 0")
            if v.name == bench.baseline and v.ratio != 1.0:
                raise ValueError(f"{where}: the baseline's ratio is {v.ratio}, not 1.0")
    return checked

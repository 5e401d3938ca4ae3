"""The benchmark report: measured variants as ratios to a baseline, as JSON and Markdown."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

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
    """How much load each variant gets: measured requests after a warm-up, at a concurrency."""

    requests: int = 10000
    concurrency: int = 16
    warmup: int = 500
    meter: Meter = field(default_factory=SilentMeter)

    @classmethod
    def quick(cls, meter: Meter | None = None) -> BenchOptions:
        return cls(requests=300, concurrency=16, warmup=50, meter=meter or SilentMeter())


@dataclass(frozen=True)
class Measurement:
    """One variant's raw figures, before it is set against the baseline."""

    name: str
    requests: int
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float


class Variant(BaseModel):
    name: str
    requests: int
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    ratio: float


class Benchmark(BaseModel):
    name: str
    description: str
    baseline: str
    variants: list[Variant]


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


BenchFn = Callable[[BenchOptions], Awaitable[Benchmark]]


def to_benchmark(
    name: str, description: str, baseline: str, measured: list[Measurement]
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
        )
        for m in measured
    ]
    return Benchmark(name=name, description=description, baseline=baseline, variants=variants)


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
            if v.requests <= 0 or v.concurrency <= 0:
                raise ValueError(f"{where}: requests and concurrency must be above 0")
            if v.name == bench.baseline and v.ratio != 1.0:
                raise ValueError(f"{where}: the baseline's ratio is {v.ratio}, not 1.0")
    return checked

"""The benchmark report: measured variants as ratios to a baseline, as JSON and Markdown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel, computed_field

from tools.bench.coldtable import coldstart_markdown
from tools.bench.ratio import ratio_cell
from tools.bench.targets import TargetResult, evaluate, targets_markdown


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
    # The premise of the provider benchmark: how long the simulated provider takes per call.
    provider_latency_ms: float = 50.0

    @classmethod
    def quick(cls, meter: Meter | None = None, provider_latency_ms: float = 50.0) -> BenchOptions:
        return cls(
            requests=300,
            concurrency=16,
            warmup=50,
            meter=meter or SilentMeter(),
            cold_runs=1,
            provider_latency_ms=provider_latency_ms,
        )


class Start(BaseModel):
    """A cold start's kind: which function, how it started (`bytecode`: its code compiled as
    the packages ship it; `no bytecode`: compiled at start, as before; `artefact`: a new
    execution environment from the packages, as `quarry up --aws` runs it), and how many of
    the modules it loaded had bytecode, as the fresh process found them."""

    function: str
    how: str
    modules: int | None = None  # unknown for a packaged function's environment
    compiled: int | None = None


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
    start: Start | None = None
    # The most a variant could do under the benchmark's premise (e.g. N calls in flight to a
    # provider that takes L each: N / L), where there is such a bound.
    ideal_rps: float | None = None
    # estimated AWS cost per 1,000 requests (documents, in the pipeline), where it is metered
    cost_per_1000_usd: float | None = None


class Variant(BaseModel):
    name: str
    requests: int
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    ratio: float
    budget_ms: float | None = None
    start: Start | None = None
    ideal_rps: float | None = None
    cost_per_1000_usd: float | None = None
    # Measured in repetitions (`quarry bench all`): `ratio` is their median ratio, these the
    # lowest and highest, and the figures above the medians of theirs.
    ratio_min: float | None = None
    ratio_max: float | None = None

    @property
    def of_ideal(self) -> float | None:
        """Measured throughput as a share of the ideal one (1.0: nothing but the premise)."""
        return None if self.ideal_rps is None else self.rps / self.ideal_rps


class Benchmark(BaseModel):
    name: str
    description: str
    baseline: str
    variants: list[Variant]
    # coldstart: requests are runs, p50/p99 the median and slowest start, rps starts per second
    kind: Literal["throughput", "coldstart"] = "throughput"
    # What `rps` counts (requests, documents, pages, messages) per second.
    unit: str = "req/s"
    # The run's premises, printed beside its figures: {"simulated provider latency (ms)": 50}.
    parameters: dict[str, float] = {}
    # How many times it was measured (tools.bench.repeat); 1: the figures of one run.
    repetitions: int = 1
    # Whether each variant's p99 is also set against the baseline's (the gateway's targets
    # bound both throughput and tail latency).
    p99_against_baseline: bool = False

    def p99_ratio(self, v: Variant) -> float | None:
        """A variant's p99 ÷ the baseline's, where the benchmark sets them against each other."""
        if not self.p99_against_baseline:
            return None
        base = next(b for b in self.variants if b.name == self.baseline)
        return v.p99_ms / base.p99_ms


class Report(BaseModel):
    created: str
    machine: str
    quick: bool
    benchmarks: list[Benchmark]
    # Benchmarks the run was told to leave out (`quarry bench all --skip NAME`).
    skipped: list[str] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def targets(self) -> list[TargetResult]:
        """Issue #20's targets, met or missed, derived from the benchmarks (never stored)."""
        return evaluate(self.benchmarks)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    def to_markdown(self) -> str:
        lines = [
            "# Quarry benchmarks",
            "",
            f"{self.created} · {self.machine}" + (" · quick run" if self.quick else ""),
            "",
        ]
        if self.skipped:
            lines += [f"Left out of this run: {', '.join(self.skipped)}.", ""]
        for bench in self.benchmarks:
            if bench.kind == "coldstart":
                lines += coldstart_markdown(bench)
                continue
            ideal = any(v.ideal_rps is not None for v in bench.variants)
            costed = any(v.cost_per_1000_usd is not None for v in bench.variants)
            tail = bench.p99_against_baseline
            lines += [f"## {bench.name}", "", bench.description, ""]
            lines += [f"- {name}: {value:g}" for name, value in bench.parameters.items()]
            lines += [""] if bench.parameters else []
            lines += [
                f"| variant | requests | concurrency | {bench.unit} | p50 ms | p99 ms | ratio |"
                + (" p99 × |" if tail else "")
                + (" of ideal |" if ideal else "")
                + (" $ per 1,000 (est.) |" if costed else ""),
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
                + (" ---: |" if tail else "")
                + (" ---: |" if ideal else "")
                + (" ---: |" if costed else ""),
            ]
            for v in bench.variants:
                share = v.of_ideal
                lines.append(
                    f"| {v.name} | {v.requests} | {v.concurrency} | {v.rps:.0f} "
                    f"| {v.p50_ms:.2f} | {v.p99_ms:.2f} | {ratio_cell(v)} |"
                    + (f" {bench.p99_ratio(v):.2f} |" if tail else "")
                    + ((" – |" if share is None else f" {share:.2f} |") if ideal else "")
                    + (f" {cost_cell(v)} |" if costed else "")
                )
            lines += [
                "",
                f"ratio = {bench.unit} ÷ {bench.unit} of `{bench.baseline}`, measured in the same"
                " run."
                + repetitions_note(bench)
                + (f" p99 × = p99 ÷ the p99 of `{bench.baseline}`." if tail else "")
                + (" of ideal = measured ÷ the premise's bound." if ideal else ""),
                "",
            ]
        return "\n".join(lines + targets_markdown(self.targets))


def repetitions_note(bench: Benchmark) -> str:
    """How the figures of a repeated benchmark were combined, or nothing for one run."""
    if bench.repetitions == 1:
        return ""
    return (
        f" Median of {bench.repetitions} repetitions: the ratio is the median ratio with the "
        "lowest and highest in brackets; the other figures are the medians of theirs."
    )


def cost_cell(v: Variant) -> str:
    """A variant's estimated AWS cost per 1,000, or a dash where it was not metered."""
    return "–" if v.cost_per_1000_usd is None else f"{v.cost_per_1000_usd:.4f}"


BenchFn = Callable[[BenchOptions], Awaitable[Benchmark]]


def to_benchmark(
    name: str,
    description: str,
    baseline: str,
    measured: list[Measurement],
    *,
    kind: Literal["throughput", "coldstart"] = "throughput",
    unit: str = "req/s",
    parameters: Mapping[str, float] | None = None,
    p99_against_baseline: bool = False,
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
            start=m.start,
            ideal_rps=m.ideal_rps,
            cost_per_1000_usd=m.cost_per_1000_usd,
        )
        for m in measured
    ]
    return Benchmark(
        name=name,
        description=description,
        baseline=baseline,
        variants=variants,
        kind=kind,
        unit=unit,
        parameters=dict(parameters or {}),
        p99_against_baseline=p99_against_baseline,
    )

"""README's Benchmarks block, rendered from a report: every variant against its baseline."""

from tools.bench.readme import render
from tools.bench.report import Measurement, Report, to_benchmark


def _report(*, quick: bool) -> Report:
    provider = to_benchmark(
        "intelligence",
        "provider at concurrency N",
        "provider-c1",
        [
            Measurement("provider-c1", 40, 1, 18.0, 55.0, 60.0, ideal_rps=20.0),
            Measurement("provider-c8", 110, 8, 126.0, 60.0, 90.0, ideal_rps=160.0),
        ],
        unit="docs/s",
        parameters={"simulated provider latency (ms)": 50.0},
    )
    cold = to_benchmark(
        "coldstart",
        "fresh process",
        "bare",
        [
            Measurement("bare", 5, 1, 4.0, 250.0, 300.0),
            Measurement("sources", 5, 1, 1.3, 760.0, 900.0, budget_ms=2200.0),
        ],
        kind="coldstart",
    )
    scaling = to_benchmark(
        "scaling",
        "workers per stage. Finding: the knee is at one worker.",
        "w1",
        [Measurement("w1", 100, 1, 40.0, 1.0, 2.0), Measurement("w2", 100, 2, 36.0, 1.0, 2.0)],
        unit="docs/s",
    )
    return Report(
        created="2026-12-01T02:30:00+00:00",
        machine="CPython 3.11 · Linux x86_64 · 2 CPUs",
        quick=quick,
        benchmarks=[provider, cold, scaling],
    )


def test_bench_readme_renders_each_variant_against_its_baseline() -> None:
    text = render(_report(quick=False))
    lines = text.splitlines()
    assert lines[0] == (
        "All figures below come from one run, `docs/bench/report.json` (its table: "
        "`docs/bench/report.md`), written by `quarry bench all` on 2026-12-01T02:30:00+00:00 · "
        "CPython 3.11 · Linux x86_64 · 2 CPUs."
    )
    assert (
        "| intelligence | provider-c8 (c=8) | 126 docs/s | provider-c1 (c=1): 18 docs/s | "
        "7.00 · 0.79 of ideal |"
    ) in lines
    # A cold start's ratio is starts/s against the bare process's (1.3 ÷ 4.0).
    assert (
        "| coldstart | sources | 760 ms median | bare: 250 ms | 0.325 · budget 2,200 ms: within |"
    ) in lines
    # The baseline is the comparison, not a row of its own.
    assert not any(line.startswith("| intelligence | provider-c1") for line in lines)
    assert "Premises of the run: intelligence: simulated provider latency (ms) 50." in lines
    assert "Findings the benchmarks state: scaling: the knee is at one worker." in lines
    assert "quick run" not in text


def test_bench_readme_says_when_the_report_is_a_quick_run() -> None:
    text = render(_report(quick=True))
    assert "written by `quarry bench all --quick`" in text
    assert "**This is a quick run**: it checks the harness; its figures are not speed" in text


def test_bench_readme_names_the_benchmarks_a_run_left_out() -> None:
    report = _report(quick=False).model_copy(update={"skipped": ["scaling", "load"]})
    assert "Left out of this run: scaling, load." in render(report).splitlines()
    assert "Left out of this run: scaling, load." in report.to_markdown()


def test_bench_readme_sets_p99_against_the_baseline_where_the_benchmark_asks() -> None:
    gateway = to_benchmark(
        "gateway",
        "wrk",
        "bare",
        [
            Measurement("event", 100, 16, 600.0, 3.0, 9.0),
            Measurement("bare", 100, 16, 1000.0, 2.0, 6.0),
        ],
        p99_against_baseline=True,
    )
    report = Report(created="now", machine="m", quick=False, benchmarks=[gateway])
    assert (
        "| gateway | event (c=16) | 600 req/s | bare (c=16): 1,000 req/s | 0.60 · p99 1.50× |"
    ) in render(report).splitlines()

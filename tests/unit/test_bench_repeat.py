"""`quarry bench all` runs each benchmark three times: the median ratio with its range, and
issue #20's targets read from the report's figures."""

from __future__ import annotations

import json

import pytest

from tools.bench import targets
from tools.bench.checks import validate
from tools.bench.readme import render
from tools.bench.repeat import combine, repeated
from tools.bench.report import Benchmark, BenchOptions, Measurement, Report, to_benchmark


def _run(fast: float, p99: float = 2.0, finding: str = "") -> Benchmark:
    return to_benchmark(
        "gateway",
        f"a trivial function.{finding}",
        "uvicorn-fastapi",
        [
            Measurement("gateway-event", 100, 16, fast, 1.0, p99),
            Measurement("uvicorn-fastapi", 100, 16, 400.0, 1.0, 2.0),
        ],
    )


def _report(*benchmarks: Benchmark) -> Report:
    return Report(created="2026-12-07", machine="m", quick=False, benchmarks=list(benchmarks))


def test_the_ratio_is_the_median_of_the_repetitions_with_their_range() -> None:
    combined = combine([_run(300.0, 9.0, " one"), _run(100.0, 3.0, " two"), _run(200.0, 5.0)])
    event, base = combined.variants
    assert (event.ratio, event.ratio_min, event.ratio_max) == (0.5, 0.25, 0.75)
    assert (event.rps, event.p99_ms) == (200.0, 5.0)  # each figure's median
    assert (base.ratio, base.ratio_min, base.ratio_max) == (1.0, None, None)
    assert combined.repetitions == 3
    assert combined.description == "a trivial function."  # the median repetition's
    assert validate(_report(combined)) == _report(combined)


def test_one_repetition_is_the_run_as_it_was() -> None:
    one = _run(200.0)
    assert combine([one]) is one
    assert one.variants[0].ratio_min is None


def test_repetitions_that_measured_other_variants_are_refused() -> None:
    other = _run(200.0).model_copy(update={"baseline": "gateway-event"})
    with pytest.raises(ValueError, match="its repetitions measured other variants"):
        combine([_run(200.0), other])


async def test_repeated_runs_the_benchmark_that_many_times() -> None:
    rates = iter([100.0, 300.0, 200.0])

    async def bench(options: BenchOptions) -> Benchmark:
        return _run(next(rates))

    combined = await repeated(bench, BenchOptions.quick(), 3)
    assert combined.variants[0].ratio == 0.5
    assert next(rates, None) is None


def test_markdown_and_readme_show_the_range_beside_the_median() -> None:
    report = _report(combine([_run(300.0), _run(100.0), _run(200.0)]))
    markdown = report.to_markdown()
    assert "| gateway-event | 100 | 16 | 200 | 1.00 | 2.00 | 0.50 (0.25–0.75) |" in markdown
    assert "Median of 3 repetitions: the ratio is the median ratio" in markdown
    readme = render(report)
    assert "uvicorn-fastapi (c=16): 400 req/s | 0.50 (0.25–0.75) |" in readme
    assert "Each benchmark ran 3 times in a row" in readme


def test_validate_rejects_a_ratio_outside_its_range() -> None:
    data = json.loads(_report(combine([_run(300.0), _run(100.0), _run(200.0)])).to_json())
    data["benchmarks"][0]["variants"][0]["ratio_max"] = 0.4
    with pytest.raises(ValueError, match=r"the ratio 0\.5 is outside its repetitions' range"):
        validate(data)
    del data["benchmarks"][0]["variants"][0]["ratio_max"]
    with pytest.raises(ValueError, match="ratio_min and ratio_max come together"):
        validate(data)


def test_targets_are_met_missed_or_not_measured_from_the_figures() -> None:
    results = {t.target: t for t in _report(_run(300.0, p99=5.0)).targets}
    event = results["gateway Lambda-event path ≥ 0.6× bare uvicorn"]
    assert (event.measured, event.met) == (0.75, True)
    tail = results["gateway Lambda-event path p99 ≤ 2× bare uvicorn's"]
    assert (tail.measured, tail.met) == (2.5, False)
    dispatch = results["stage dispatch enqueue → start p99 ≤ 15 ms through Redis"]
    assert (dispatch.measured, dispatch.met) == (None, None)
    markdown = _report(_run(300.0, p99=5.0)).to_markdown()
    assert "| gateway Lambda-event path ≥ 0.6× bare uvicorn | 0.75× | met |" in markdown
    assert "| gateway Lambda-event path p99 ≤ 2× bare uvicorn's | 2.50× | missed |" in markdown
    assert "| extraction core ≥ 0.95× bare trafilatura | – | not measured |" in markdown
    assert json.loads(_report(_run(300.0)).to_json())["targets"][0]["met"] is None


def test_the_stack_target_sets_one_worker_against_the_pure_cores_of_the_same_run() -> None:
    pipeline = to_benchmark(
        "pipeline",
        "",
        "pure-cores",
        [Measurement("pure-cores", 9, 1, 60.0, 1, 1), Measurement("embedded", 9, 1, 20.0, 1, 1)],
    )
    scaling = to_benchmark(
        "scaling",
        "",
        "stack-w1",
        [Measurement("stack-w1", 9, 1, 36.0, 1, 1), Measurement("stack-w2", 9, 2, 30.0, 1, 1)],
    )
    results = [(t.measured, t.met) for t in _report(pipeline, scaling).targets[:3]]
    assert results == [(pytest.approx(1 / 3), False), (0.6, True), (pytest.approx(5 / 6), False)]


def test_the_targets_read_the_names_the_benchmarks_write() -> None:
    from tools.bench import extraction, gateway, pipeline, stack

    assert targets.PURE == pipeline.BASELINE
    assert targets.BARE_UVICORN == gateway.BASELINE
    assert targets.EVENT_PATH in gateway.VARIANTS
    assert targets.EXTRACT == extraction.VARIANT
    assert targets.DISPATCH in stack.STACK

"""The benchmark report: ratios against the baseline, and validation of what was written."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from tools.bench.checks import validate
from tools.bench.report import Measurement, Report, to_benchmark


def _report() -> Report:
    bench = to_benchmark(
        "gateway",
        "a trivial function",
        "base",
        [
            Measurement("fast", 100, 4, 800.0, 1.0, 2.0),
            Measurement("base", 100, 4, 400.0, 2.0, 4.0),
        ],
    )
    return Report(
        created="2024-01-01T00:00:00+00:00", machine="test", quick=True, benchmarks=[bench]
    )


def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_report().to_json())
    return data


def test_to_benchmark_sets_ratios_against_the_baseline() -> None:
    variants = {v.name: v.ratio for v in _report().benchmarks[0].variants}
    assert variants == {"fast": 2.0, "base": 1.0}


def test_to_benchmark_requires_the_baseline() -> None:
    with pytest.raises(ValueError, match="baseline 'nope' was not measured"):
        to_benchmark("gateway", "", "nope", [Measurement("a", 1, 1, 1.0, 1.0, 1.0)])


def test_validate_accepts_a_written_report() -> None:
    assert validate(_data()) == _report()
    assert validate(_report()) == _report()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 0.0, -1.0])
def test_validate_rejects_a_ratio_that_is_not_finite_and_positive(bad: float) -> None:
    data = _data()
    data["benchmarks"][0]["variants"][0]["ratio"] = bad
    with pytest.raises(ValueError, match=r"variant 'fast': ratio is .*expected a finite number"):
        validate(data)


def test_validate_rejects_nan_as_written_in_json() -> None:
    text = _report().to_json().replace('"ratio": 2.0', '"ratio": NaN')
    with pytest.raises(ValueError, match="ratio is nan"):
        validate(json.loads(text))


@pytest.mark.parametrize("field", ["ratio", "rps", "p99_ms", "name"])
def test_validate_rejects_a_missing_field(field: str) -> None:
    data = _data()
    del data["benchmarks"][0]["variants"][1][field]
    with pytest.raises(
        ValueError, match=rf"malformed: benchmarks\.0\.variants\.1\.{field}: Field required$"
    ):
        validate(data)


def test_validate_rejects_a_missing_baseline_and_an_empty_report() -> None:
    data = _data()
    data["benchmarks"][0]["baseline"] = "gone"
    with pytest.raises(ValueError, match="baseline 'gone' is missing"):
        validate(data)
    with pytest.raises(ValueError, match="no benchmarks"):
        validate({**_data(), "benchmarks": []})


def test_validate_rejects_a_baseline_ratio_other_than_one() -> None:
    data = _data()
    data["benchmarks"][0]["variants"][1]["ratio"] = 0.5
    with pytest.raises(ValueError, match=r"baseline's ratio is 0\.5, not 1\.0"):
        validate(data)


def test_markdown_has_a_row_per_variant() -> None:
    markdown = _report().to_markdown()
    assert "| fast | 100 | 4 | 800 | 1.00 | 2.00 | 2.00 |" in markdown
    assert "| base | 100 | 4 | 400 | 2.00 | 4.00 | 1.00 |" in markdown


def test_report_states_a_benchmarks_premise_and_its_share_of_the_ideal() -> None:
    bench = to_benchmark(
        "intelligence",
        "a provider on loopback",
        "c1",
        [
            Measurement("c1", 10, 1, 18.0, 55.0, 60.0, ideal_rps=20.0),
            Measurement("c8", 40, 8, 120.0, 60.0, 90.0, ideal_rps=160.0),
        ],
        unit="docs/s",
        parameters={"simulated provider latency (ms)": 50.0},
    )
    assert [v.of_ideal for v in bench.variants] == [0.9, 0.75]
    report = Report(
        created="2024-01-01T00:00:00+00:00", machine="m", quick=False, benchmarks=[bench]
    )
    markdown = report.to_markdown()
    assert "- simulated provider latency (ms): 50" in markdown
    assert (
        "| variant | requests | concurrency | docs/s | p50 ms | p99 ms | ratio | of ideal |"
        in markdown
    )
    assert "| c8 | 40 | 8 | 120 | 60.00 | 90.00 | 6.67 | 0.75 |" in markdown
    assert validate(json.loads(report.to_json())) == report


def test_validate_rejects_an_ideal_that_is_not_positive() -> None:
    data = _data()
    data["benchmarks"][0]["variants"][0]["ideal_rps"] = 0.0
    with pytest.raises(ValueError, match=r"variant .fast.: ideal_rps is 0\.0; expected a finite"):
        validate(data)


def test_report_shows_the_estimated_cost_per_1000_where_it_was_metered() -> None:
    bench = to_benchmark(
        "pipeline",
        "documents through the stages",
        "pure-cores",
        [
            Measurement("pure-cores", 100, 1, 200.0, 1.0, 2.0),
            Measurement("embedded", 100, 1, 30.0, 5.0, 9.0, cost_per_1000_usd=0.0412),
        ],
        unit="docs/s",
    )
    report = Report(created="2024-01-01", machine="test", quick=True, benchmarks=[bench])
    markdown = report.to_markdown()
    assert "| ratio | $ per 1,000 (est.) |" in markdown
    assert "| embedded | 100 | 1 | 30 | 5.00 | 9.00 | 0.15 | 0.0412 |" in markdown
    assert "| pure-cores | 100 | 1 | 200 | 1.00 | 2.00 | 1.00 | – |" in markdown
    assert validate(report).benchmarks[0].variants[1].cost_per_1000_usd == 0.0412
    data = json.loads(report.to_json())
    data["benchmarks"][0]["variants"][1]["cost_per_1000_usd"] = -1.0
    with pytest.raises(ValueError, match=r"cost_per_1000_usd is -1\.0"):
        validate(data)


def test_report_sets_p99_against_the_baseline_where_the_benchmark_asks() -> None:
    measured = [
        Measurement("event", 100, 16, 600.0, 3.0, 9.0),
        Measurement("bare", 100, 16, 1000.0, 2.0, 6.0),
    ]
    bench = to_benchmark("gateway", "wrk", "bare", measured, p99_against_baseline=True)
    assert [bench.p99_ratio(v) for v in bench.variants] == [1.5, 1.0]
    report = Report(created="2024-01-01", machine="m", quick=False, benchmarks=[bench])
    markdown = report.to_markdown()
    assert "| p50 ms | p99 ms | ratio | p99 × |" in markdown
    assert "| event | 100 | 16 | 600 | 3.00 | 9.00 | 0.60 | 1.50 |" in markdown
    assert "p99 × = p99 ÷ the p99 of `bare`." in markdown
    assert validate(json.loads(report.to_json())) == report
    # Without the flag (every report written before it) the table is as it was.
    plain = to_benchmark("gateway", "wrk", "bare", measured)
    assert plain.p99_ratio(plain.variants[0]) is None
    assert (
        "p99 ×"
        not in Report(
            created="2024-01-01", machine="m", quick=False, benchmarks=[plain]
        ).to_markdown()
    )

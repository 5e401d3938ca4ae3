"""The cold-start benchmark's pure parts: probes, budgets, verdicts and the report rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.table import load_table
from shared.errors import ConfigError
from tools.bench.checks import validate
from tools.bench.coldstart import (
    BASELINE,
    BUDGETS,
    TABLE,
    UNCOMPILED,
    checked_start,
    is_expected,
    load_budgets,
    over_budget,
    probe_of,
)
from tools.bench.coldtable import COMPILED
from tools.bench.load import BenchError
from tools.bench.report import Measurement, Report, Start, to_benchmark


def test_probes_of_the_real_table() -> None:
    probes = {name: probe_of(fn) for name, fn in load_table(TABLE).functions.items()}
    assert probes["health"] == {
        "module": "functions.api.health",
        "attr": "handler",
        "kind": "http",
        "path": "/api/v1/health",
        "route": "GET /api/v1/health",
    }
    assert probes["dashboard"]["route"] == "GET /"
    assert probes["sources"]["path"] == "/api/v1/sources"  # not /api/v1/sources/{source_id}
    assert probes["extraction"] == {
        "module": "functions.stages.extraction",
        "attr": "handler",
        "kind": "sqs",
    }


def test_every_function_has_a_budget() -> None:
    budgets = load_budgets(BUDGETS)
    assert sorted(budgets) == sorted(load_table(TABLE).functions)


def test_answers_are_checked_per_kind() -> None:
    http = {"module": "m", "attr": "handler", "kind": "http"}
    assert is_expected(http, {"status": 200})
    assert not is_expected(http, {"status": 500})
    assert is_expected({**http, "kind": "sqs"}, {"failures": 1})
    assert not is_expected({**http, "kind": "sqs"}, {"failures": 0})
    assert is_expected({**http, "kind": "import"}, {"imported": True})


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("health = 10\n", "expected a [budgets] table"),
        ("[budgets]\nhealth = 0\n", "budget of 'health' must be a number of ms above 0"),
        ("[budgets]\nhealth = 'fast'\n", "budget of 'health' must be a number of ms above 0"),
        ("[budgets\n", "cannot read the cold-start budgets"),
    ],
)
def test_bad_budgets_say_what_is_wrong(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=error.replace("[", r"\[")):
        load_budgets(path)


def _coldstart() -> Report:
    compiled = Start(function="health", how=COMPILED, modules=600, compiled=600)
    bench = to_benchmark(
        "coldstart",
        "cold starts",
        BASELINE,
        [
            Measurement(BASELINE, 5, 1, 100.0, 10.0, 12.0),
            Measurement("health", 5, 1, 0.5, 2000.0, 2400.0, budget_ms=3000.0, start=compiled),
            Measurement(
                f"health ({UNCOMPILED})",
                5,
                1,
                0.125,
                8000.0,
                9000.0,
                start=compiled.model_copy(update={"how": UNCOMPILED, "compiled": 0}),
            ),
            Measurement("runs", 5, 1, 0.25, 4000.0, 4100.0, budget_ms=3000.0),
            Measurement("extra", 5, 1, 0.5, 2000.0, 2100.0),
        ],
        kind="coldstart",
    )
    return Report(created="2024-01-01T00:00:00+00:00", machine="m", quick=False, benchmarks=[bench])


def test_coldstart_report_marks_budgets_and_sets_uncompiled_beside_compiled() -> None:
    report = validate(_coldstart())
    bench = report.benchmarks[0]
    assert [v.ratio for v in bench.variants] == [1.0, 0.005, 0.00125, 0.0025, 0.005]
    assert over_budget(bench) == [  # the uncompiled start has no budget, and needs none
        "runs: 4000 ms is over its 3000 ms budget",
        "extra: no budget in infra/coldstart-budgets.toml",
    ]
    markdown = report.to_markdown()
    assert "| function | start | bytecode | runs | median ms |" in markdown
    assert f"| {BASELINE} |  |  | 5 | 10 | 12 | 1.000 |  |  | baseline |" in markdown
    assert "| health | bytecode | 600/600 | 5 | 2000 | 2400 | 0.005 | 1.00 | 3000 | within |" in (
        markdown
    )
    assert "| health | no bytecode | 0/600 | 5 | 8000 | 9000 | 0.001 | 4.00 |  |  |" in markdown
    assert "| runs |  |  | 5 | 4000 | 4100 | 0.003 |  | 3000 | over |" in markdown
    assert "| extra |  |  | 5 | 2000 | 2100 | 0.005 |  |  | no budget |" in markdown


def test_coldstart_staging_checks_how_each_start_found_its_bytecode() -> None:
    assert checked_start("health", COMPILED, {"modules": 600, "compiled": 600}).compiled == 600
    assert checked_start("health", UNCOMPILED, {"modules": 600, "compiled": 0}).modules == 600
    with pytest.raises(BenchError, match="599 of 600 modules had bytecode, expected 600"):
        checked_start("health", COMPILED, {"modules": 600, "compiled": 599})
    with pytest.raises(BenchError, match="3 of 600 modules had bytecode, expected 0"):
        checked_start("health", UNCOMPILED, {"modules": 600, "compiled": 3})


def test_validate_rejects_a_budget_that_is_not_positive() -> None:
    data = _coldstart().model_dump()
    data["benchmarks"][0]["variants"][1]["budget_ms"] = 0.0
    with pytest.raises(ValueError, match=r"budget_ms is 0\.0"):
        validate(data)

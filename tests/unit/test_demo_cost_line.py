"""The closing line of `make dev`'s demo: the run's estimated bill, per 1,000 documents."""

from __future__ import annotations

from emulator.dev import cost_line

URL = "http://127.0.0.1:8000"


def test_the_demo_run_costs_what_readme_says_per_thousand_documents() -> None:
    run = {
        "id": "run-1",
        "discovered": 35,
        "cost": {"region": "eu-west-1", "cost": {"total_usd": 0.00099068}},
    }
    assert cost_line(run, URL) == (
        "Estimated AWS cost of this run: $0.000991, $0.0283 per 1,000 documents at eu-west-1 "
        "prices (an estimate from this machine's timings; the breakdown: "
        "http://127.0.0.1:8000/runs/run-1)"
    )


def test_a_run_that_found_nothing_says_so_instead_of_dividing_by_zero() -> None:
    run = {"id": "run-2", "discovered": 0, "cost": {"region": "us-east-1", "cost": {}}}
    assert cost_line(run, URL).startswith("Estimated AWS cost of this run: $0, no documents at")

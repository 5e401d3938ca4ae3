"""`quarry bench load` against the session's stack: a short run of the mix through nginx that
stops by itself and reports errors, latency and memory per process."""

from __future__ import annotations

import json

import pytest

from tests.stack.conftest import API_KEY, Stack

pytestmark = pytest.mark.stack


def test_bench_load_drives_the_stack_and_reports_each_figure(stack: Stack) -> None:
    out = stack.root / "load.json"
    result = stack.quarry(
        "bench", "load", "--rate", "20", "--duration", "3", "--json", str(out),
        "--api-key", API_KEY,
        timeout=300,  # it stops by itself; generous for a loaded machine
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(out.read_text())
    assert report["url"] == stack.entry
    assert report["sent"] == 60
    assert report["errors"] == 0, report["kinds"]
    assert report["error_rate"] == 0.0
    assert 0 < report["p50_ms"] <= report["p99_ms"]
    # the last request left at 2.95 s, and no other after it (sent == 60): then it stopped
    assert report["elapsed_s"] >= 59 / 20
    assert report["notes"] == []  # webhooks were driven, signed
    kinds = report["kinds"]
    assert sum(k["sent"] for k in kinds.values()) == 60
    assert {name: kinds[name]["sent"] > 0 for name in kinds} == {
        "read": True,
        "write": True,
        "webhook": True,
    }
    assert set(kinds["webhook"]["statuses"]) == {"202"}
    assert set(kinds["write"]["statuses"]) == {"201"}
    processes = report["processes"]
    assert set(processes) == set(stack.state["services"])
    for name in ("nginx", "api-1", "worker-intelligence", "pg-primary", "redis-queue"):
        mem = processes[name]
        assert mem["rss_before_kb"] > 0
        assert mem["growth_kb"] == mem["rss_after_kb"] - mem["rss_before_kb"]
    assert "error rate 0.00%" in result.stdout

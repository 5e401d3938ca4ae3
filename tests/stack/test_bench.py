"""`quarry bench all --quick`: the harness runs end to end and writes a well-formed report."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from emulator.table import load_table
from tools.bench.coldstart import BASELINE as BARE_START
from tools.bench.coldstart import TABLE
from tools.bench.report import BenchOptions
from tools.bench.stack import DISPATCH_CONCURRENCY

pytestmark = pytest.mark.stack  # real nginx, Redis and Node.js processes

QUARRY = Path(sys.executable).with_name("quarry")
SKIPPED = ("--skip", "serverless-offline", "--skip", "scaling")


def test_bench_all_quick_writes_a_valid_report(tmp_path: Path) -> None:
    out = tmp_path / "r"
    done = subprocess.run(
        # serverless-offline has its own test (test_bench_offline.py); scaling starts two
        # stacks, which the stack tier already exercises, so its pure verdict is unit-tested.
        [str(QUARRY), "bench", "all", "--quick", "--out", str(out), *SKIPPED],
        capture_output=True,
        text=True,
        # Generous: a quick run takes about a minute alone and several beside other CPU-bound
        # work; the deadline only catches a hang.
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    report = json.loads(out.with_name("r.json").read_text())
    assert report["quick"] is True
    gateway = {b["name"]: b for b in report["benchmarks"]}["gateway"]
    assert gateway["baseline"] == "uvicorn-fastapi"
    variants = {v["name"]: v for v in gateway["variants"]}
    assert sorted(variants) == ["gateway-asgi", "gateway-event", "uvicorn-fastapi"]
    for v in variants.values():
        assert (v["requests"], v["concurrency"]) == (300, 16)
        for key in ("rps", "p50_ms", "p99_ms", "ratio"):
            assert math.isfinite(v[key]), (v["name"], key, v[key])
            assert v[key] > 0, (v["name"], key, v[key])
        assert v["p50_ms"] <= v["p99_ms"]
        assert v["ratio"] == v["rps"] / variants["uvicorn-fastapi"]["rps"]
    assert variants["uvicorn-fastapi"]["ratio"] == 1.0

    markdown = out.with_name("r.md").read_text()
    for v in variants.values():
        assert f"| {v['name']} | 300 | 16 | {v['rps']:.0f} |" in markdown
    for name in variants:
        assert name in done.stdout

    benchmarks = {b["name"]: b for b in report["benchmarks"]}
    quick = BenchOptions.quick()
    for n in (1, 2):
        bench = benchmarks[f"stack-http-x{n}"]
        assert bench["baseline"] == f"uvicorn-workers-{n}"
        _check_ratios(bench, [f"nginx-api-x{n}", f"uvicorn-workers-{n}"], quick.requests, 16)
    dispatch = benchmarks["stack-dispatch"]
    assert dispatch["baseline"] == "taskiq-redis"
    _check_ratios(
        dispatch, ["quarry-dispatch", "taskiq-redis"], quick.requests // 4, DISPATCH_CONCURRENCY
    )
    cold = benchmarks["coldstart"]
    assert (cold["baseline"], cold["kind"]) == (BARE_START, "coldstart")
    functions = sorted(load_table(TABLE).functions)
    _check_ratios(cold, [BARE_START, *functions], quick.cold_runs, 1)
    budgets = {v["name"]: v["budget_ms"] for v in cold["variants"]}
    assert budgets.pop(BARE_START) is None
    assert sorted(budgets) == functions
    assert all(b > 0 for b in budgets.values())
    dashboard = benchmarks["dashboard"]
    assert dashboard["baseline"] == "404 page (layout only)"
    assert "1,000 documents" in dashboard["description"]
    pipeline = benchmarks["pipeline"]
    assert pipeline["baseline"] == "pure-cores"
    docs = {v["name"]: v["requests"] for v in pipeline["variants"]}
    assert docs == {"pure-cores": 100, "embedded": 100}
    assert "scaling" not in benchmarks
    extraction = benchmarks["extraction"]
    assert extraction["baseline"] == "trafilatura-full"
    pages = {v["name"]: v["requests"] for v in extraction["variants"]}
    assert sorted(pages) == ["quarry-extract", "trafilatura-full", "trafilatura-text"]
    assert len(set(pages.values())) == 1  # the same pages for every variant
    for bench in benchmarks.values():
        assert f"## {bench['name']}" in markdown
        for v in bench["variants"]:
            assert v["name"] in markdown  # the terminal table may wrap long names


def _check_ratios(bench: dict[str, Any], names: list[str], requests: int, concurrency: int) -> None:
    """Every variant measured in full, its figures finite, its ratio to this run's baseline."""
    variants = {v["name"]: v for v in bench["variants"]}
    assert sorted(variants) == sorted(names)
    base = variants[bench["baseline"]]
    assert base["ratio"] == 1.0
    for v in variants.values():
        assert (v["requests"], v["concurrency"]) == (requests, concurrency), v["name"]
        for key in ("rps", "p50_ms", "p99_ms", "ratio"):
            where = (bench["name"], v["name"], key, v[key])
            assert math.isfinite(v[key]), where
            assert v[key] > 0, where
        assert v["p50_ms"] <= v["p99_ms"]
        assert v["ratio"] == v["rps"] / base["rps"]

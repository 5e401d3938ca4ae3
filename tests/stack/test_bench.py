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
from tools.bench.artefacts import IN_PROCESS, RUNTIME_API, warm_calls
from tools.bench.coldstart import ARTEFACT, QUICK_SIDE_BY_SIDE, TABLE, UNCOMPILED
from tools.bench.coldstart import BASELINE as BARE_START
from tools.bench.report import BenchOptions
from tools.bench.stack import DISPATCH_CONCURRENCY

pytestmark = pytest.mark.stack  # real nginx, Redis and Node.js processes

QUARRY = Path(sys.executable).with_name("quarry")
SKIPPED = ("--skip", "serverless-offline", "--skip", "scaling", "--skip", "pg-drivers")


def test_bench_all_quick_writes_a_valid_report(tmp_path: Path) -> None:
    out = tmp_path / "r"
    done = subprocess.run(
        # serverless-offline has its own test (test_bench_offline.py); scaling and pg-drivers
        # start two stacks each, which the stack tier already exercises (scaling's pure
        # verdict is unit-tested).
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
        # wrk stops after 300 responses; ones in flight on the other connections may land too
        assert 300 <= v["requests"] < 300 + 16, v
        assert v["concurrency"] == 16
        for key in ("rps", "p50_ms", "p99_ms", "ratio"):
            assert math.isfinite(v[key]), (v["name"], key, v[key])
            assert v[key] > 0, (v["name"], key, v[key])
        assert v["p50_ms"] <= v["p99_ms"]
        assert v["ratio"] == v["rps"] / variants["uvicorn-fastapi"]["rps"]
    assert variants["uvicorn-fastapi"]["ratio"] == 1.0

    markdown = out.with_name("r.md").read_text()
    for v in variants.values():
        assert f"| {v['name']} | {v['requests']} | 16 | {v['rps']:.0f} |" in markdown
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
    # --quick: every function compiled, two of them also without bytecode and packaged
    uncompiled = [f"{name} ({UNCOMPILED})" for name in QUICK_SIDE_BY_SIDE]
    packaged = [f"{name} ({ARTEFACT})" for name in QUICK_SIDE_BY_SIDE]
    _check_ratios(cold, [BARE_START, *functions, *uncompiled, *packaged], quick.cold_runs, 1)
    budgets = {v["name"]: v["budget_ms"] for v in cold["variants"] if v["budget_ms"]}
    assert sorted(budgets) == functions  # compiled starts only
    starts = {v["name"]: v["start"] for v in cold["variants"] if v["start"]}
    for name in functions:  # each start says whether bytecode was there, and it was as staged
        compiled = starts[name]
        assert (compiled["function"], compiled["how"]) == (name, "bytecode")
        assert compiled["compiled"] == compiled["modules"] > 0
    for name in QUICK_SIDE_BY_SIDE:
        bare = starts[f"{name} ({UNCOMPILED})"]
        assert (bare["how"], bare["compiled"]) == (UNCOMPILED, 0)
        assert bare["modules"] > 0
    for name in QUICK_SIDE_BY_SIDE:
        assert starts[f"{name} ({ARTEFACT})"]["how"] == ARTEFACT
    warm = benchmarks["warm-invoke"]
    assert warm["baseline"] == IN_PROCESS
    _check_ratios(warm, [IN_PROCESS, RUNTIME_API], warm_calls(quick), 1)
    dashboard = benchmarks["dashboard"]
    assert dashboard["baseline"] == "404 page (layout only)"
    assert "1,000 documents" in dashboard["description"]
    pipeline = benchmarks["pipeline"]
    assert pipeline["baseline"] == "pure-cores"
    docs = {v["name"]: v["requests"] for v in pipeline["variants"]}
    assert docs == {"pure-cores": 100, "embedded": 100}
    cost = {v["name"]: v["cost_per_1000_usd"] for v in pipeline["variants"]}
    assert cost["pure-cores"] is None  # no platform, nothing metered
    assert 0 < cost["embedded"] < 10  # the embedded run's estimated AWS cost per 1,000 docs
    assert f"| {cost['embedded']:.4f} |" in markdown
    assert "scaling" not in benchmarks
    extraction = benchmarks["extraction"]
    assert extraction["baseline"] == "trafilatura-full"
    pages = {v["name"]: v["requests"] for v in extraction["variants"]}
    assert sorted(pages) == ["quarry-extract", "trafilatura-full", "trafilatura-text"]
    assert len(set(pages.values())) == 1  # the same pages for every variant
    for bench in benchmarks.values():
        assert f"## {bench['name']}" in markdown
        for v in bench["variants"]:  # the terminal table may wrap long names
            start = v.get("start")
            shown = f"| {start['function']} | {start['how']} |" if start else v["name"]
            assert shown in markdown


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

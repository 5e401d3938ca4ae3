"""`quarry bench all --quick`: the harness runs end to end and writes a well-formed report."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

QUARRY = Path(sys.executable).with_name("quarry")


def test_bench_all_quick_writes_a_valid_report(tmp_path: Path) -> None:
    out = tmp_path / "r"
    done = subprocess.run(
        [str(QUARRY), "bench", "all", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=50,
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

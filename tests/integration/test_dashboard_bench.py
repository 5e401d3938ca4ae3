"""`quarry bench dashboard` on a small database: every page measured against the baseline."""

from __future__ import annotations

from tools.bench.checks import validate
from tools.bench.dashboard import BASELINE, bench_dashboard, pages
from tools.bench.registry import to_report
from tools.bench.report import BenchOptions


async def test_dashboard_bench_measures_every_page_against_the_baseline() -> None:
    bench = await bench_dashboard(BenchOptions.quick(), documents=40, requests=2)
    names = [v.name for v in bench.variants]
    assert names == list(pages({"run": "r", "document": "d"}))
    assert bench.baseline == BASELINE
    assert "40 documents" in bench.description
    base = next(v for v in bench.variants if v.name == BASELINE)
    assert base.ratio == 1.0
    assert all(v.requests == 2 and v.p50_ms > 0 for v in bench.variants)
    assert validate(to_report([bench], quick=True)).benchmarks[0].name == "dashboard"

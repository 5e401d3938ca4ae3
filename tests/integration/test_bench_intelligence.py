"""`quarry bench intelligence`: the simulated latency is a stated parameter, and each provider
variant is set against the ideal for its concurrency (N calls in flight ÷ the latency)."""

import asyncio

from typer.testing import CliRunner

from cli.main import app
from tools.bench.intelligence import CALLS, CONCURRENCY, LATENCY, bench_intelligence
from tools.bench.report import BenchOptions


def test_bench_intelligence_sets_each_concurrency_against_its_ideal() -> None:
    bench = asyncio.run(bench_intelligence(BenchOptions.quick(provider_latency_ms=20)))
    assert bench.parameters == {LATENCY: 20.0, CALLS: 1.0}  # one call per document, counted
    assert bench.unit == "docs/s"
    variants = {v.concurrency: v for v in bench.variants}
    assert sorted(variants) == list(CONCURRENCY)
    for n, v in variants.items():
        assert v.ideal_rps == n / 0.020
        # Every call sleeps 20 ms and N are in flight, so no run can beat N ÷ 20 ms: the share
        # of the ideal is a fraction whatever the machine's load.
        assert v.of_ideal is not None
        assert 0 < v.of_ideal <= 1, (v.name, v.rps, v.ideal_rps)
        assert v.ratio == v.rps / variants[1].rps


def test_quarry_bench_intelligence_prints_its_premise() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["bench", "intelligence", "--quick", "--latency-ms", "20"])
    assert result.exit_code == 0, result.output
    assert "premise: the provider answers each call after 20 ms; 1 call(s) per document" in (
        result.output
    )
    assert "of the ideal 1600.0 documents/s" in result.output  # concurrency 32 ÷ 20 ms
    assert "offline: " in result.output
    assert "· offline-core: " in result.output
    refused = runner.invoke(app, ["bench", "intelligence", "--latency-ms", "0"])
    assert refused.exit_code == 2
    assert "--latency-ms" in refused.output

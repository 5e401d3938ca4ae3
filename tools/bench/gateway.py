"""The gateway benchmark: one trivial function through the Lambda-event path, through direct
ASGI, and as a bare uvicorn + FastAPI app, each in its own server process, driven by wrk."""

from __future__ import annotations

from tools.bench.load import served
from tools.bench.report import Benchmark, BenchOptions, Measurement, to_benchmark
from tools.bench.wrk import measure_wrk

PATH = "/bench/ping"
BASELINE = "uvicorn-fastapi"
# report name → tools.bench.serve variant
VARIANTS = {
    "gateway-event": "event",
    "gateway-asgi": "asgi",
    BASELINE: "baseline",
}
DESCRIPTION = (
    f'`GET {PATH}` answering `{{"ok": true}}`: the Gateway invoking the Mangum handler with an '
    "API Gateway v2 event on its own event loop (`gateway-event`), the Gateway calling the "
    f"function's FastAPI app directly (`gateway-asgi`), and a plain FastAPI app on bare uvicorn "
    f"(`{BASELINE}`). Each is a uvicorn server (h11, asyncio) in its own process, driven by wrk "
    "(one thread, the same number of keep-alive HTTP/1.1 connections for every variant)."
)


async def bench_gateway(options: BenchOptions) -> Benchmark:
    measured: list[Measurement] = []
    for name, variant in VARIANTS.items():
        async with served(variant, PATH) as port:
            measured.append(await measure_wrk(name, port, PATH, options))
    return to_benchmark("gateway", DESCRIPTION, BASELINE, measured, p99_against_baseline=True)

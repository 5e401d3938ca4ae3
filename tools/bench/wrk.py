"""Load from wrk (Debian's package): a C load generator, so the client's cost does not cap the
servers it measures on a machine whose cores it shares.

One wrk thread keeps `concurrency` keep-alive connections busy until exactly the measured
number of responses came back (tools/bench/wrk.lua stops it there), after a warm-up run of the
same shape; the script prints requests, elapsed time and wrk's latency percentiles as JSON.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from tools.bench.load import HOST, REQUEST_TIMEOUT_S, BenchError
from tools.bench.report import BenchOptions, Measurement

SCRIPT = Path(__file__).with_name("wrk.lua")
# The longest one wrk run may take: a run stops at its request count, normally in seconds.
RUN_CAP_S = 600


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise BenchError(
            "wrk is not installed; the gateway benchmark drives its servers with it "
            "(bash infra/install-system-deps.sh, or apt-get install wrk)"
        )
    return found


async def run_wrk(port: int, path: str, requests: int, concurrency: int) -> dict[str, Any]:
    """One wrk run against HOST:port; its figures, checked whole (every answer a 2xx)."""
    args = [
        wrk_binary(),
        "--threads=1",
        f"--connections={concurrency}",
        f"--duration={RUN_CAP_S}s",
        f"--timeout={REQUEST_TIMEOUT_S:.0f}s",
        f"--script={SCRIPT}",
        f"http://{HOST}:{port}{path}",
        "--",
        str(requests),
    ]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), RUN_CAP_S + 30)
    finally:
        if proc.returncode is None:  # timed out or cancelled (Ctrl-C)
            proc.kill()
            await proc.wait()
    text = out.decode(errors="replace")
    lines = [line for line in text.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise BenchError(f"wrk exited with code {proc.returncode}: {text.strip()[-1000:]}")
    figures: dict[str, Any] = json.loads(lines[-1])
    if figures["socket_errors"] or figures["non_2xx"]:
        raise BenchError(
            f"wrk saw {figures['socket_errors']} socket errors and {figures['non_2xx']} "
            f"answers other than 2xx from GET {path}; nothing to measure"
        )
    if figures["requests"] < requests:
        raise BenchError(
            f"wrk got {figures['requests']} of {requests} responses in {RUN_CAP_S} s from "
            f"GET {path}; the server is stuck or far too slow to measure"
        )
    return figures


async def measure_wrk(name: str, port: int, path: str, options: BenchOptions) -> Measurement:
    """Warm up, then time `options.requests` GETs at `options.concurrency` with wrk."""
    await run_wrk(port, path, max(options.warmup, options.concurrency), options.concurrency)
    options.meter.start(name, options.requests)
    figures = await run_wrk(port, path, options.requests, options.concurrency)
    for _ in range(options.requests):
        options.meter.advance()
    return Measurement(
        name=name,
        requests=figures["requests"],
        concurrency=options.concurrency,
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
    )

"""Functions run as `quarry up --aws` runs them, measured: the cold start of an execution
environment (a new runtime process from the packaged zip, the layer and awslambdaric, its
Runtime API, the first invocation), and warm invocations through the Runtime API against the
same handler called in this process. The package is `quarry package`'s (built or reused).

The environments read no SSM and reach no AWS: the probes' invocations touch only a SQLite
file, so both paths do the same work and the difference is how the function is run."""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from emulator.artefacts.build import STAGE, package
from emulator.artefacts.runtime_env import interpreter, runtime_env
from emulator.artefacts.stack import CACHE, PACKAGE
from emulator.artefacts.template import artefacts, read_template
from emulator.execution.function import FunctionSpec, Result
from emulator.execution.logsink import FunctionLog
from emulator.execution.pool import Pool
from emulator.execution.spec import function_spec
from emulator.table import load_handler, load_table
from shared.lambda_events import sqs
from shared.lambda_events.http import HttpRequest, apigw_v2
from tools.bench.load import BenchError
from tools.bench.report import Benchmark, BenchOptions, Measurement, to_benchmark

ROOT = Path(__file__).resolve().parents[2]
WARM_FUNCTION = "health"
IN_PROCESS, RUNTIME_API = "in-process", "runtime-api"
WARM_DESCRIPTION = (
    f"Warm invocations of `{WARM_FUNCTION}` (a GET through Mangum), one at a time: "
    f"`{RUNTIME_API}` hands each event to a warm execution environment through the Lambda "
    "Runtime API, as `quarry up --aws` does (the packaged function under awslambdaric in its "
    f"own process); `{IN_PROCESS}` calls the same handler in this process, as the gateway's "
    "in-process path does. req/s over the run, p50/p99 of single invocations; ratio = req/s ÷ "
    f"req/s of `{IN_PROCESS}`, measured in the same run."
)


def local_variables(database_url: str) -> dict[str, str]:
    """What the benchmark's environments get instead of SSM and AWS: the SQLite file, the
    in-process cache, a strong secret key; nothing they are invoked with reaches AWS."""
    return {
        "QUARRY_SSM_PARAMETERS": "",
        "QUARRY_DATABASE_URL": database_url,
        "QUARRY_CACHE": "memory",
        "QUARRY_AWS_ENDPOINT": "127.0.0.1:9",
        "QUARRY_SECRET_KEY": secrets.token_urlsafe(48),
        "QUARRY_INSECURE_ALLOW": "open-dashboard",
        "QUARRY_LOG_LEVEL": "WARNING",
        "QUARRY_RATE_LIMIT_PER_S": "0",  # hundreds of calls in a row, none of them abuse
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
    }


async def specs_for(names: list[str], database_url: str) -> dict[str, FunctionSpec]:
    """The functions `names` as their execution environments run them, from the package."""
    built = await asyncio.to_thread(package, PACKAGE)
    runtime = await asyncio.to_thread(runtime_env, CACHE)
    service = load_table(ROOT / "serverless.yml").service
    found = artefacts(read_template(built.template), service, STAGE)
    variables = local_variables(database_url)
    python = interpreter()
    return {
        n: function_spec(
            found[n], built.unpacked, runtime, python, variables, f"{service}-{STAGE}-{n}"
        )
        for n in names
    }


def event_of(probe: dict[str, str]) -> dict[str, Any]:
    """The event a probe sends (see tools.bench.coldprobe): a GET, or an invalid SQS record."""
    if probe["kind"] == "http":
        request = HttpRequest("GET", probe["path"], "", [("host", "localhost")], b"")
        return apigw_v2(request, probe["route"], {}, str(uuid.uuid4()))
    return sqs.event([{"messageId": "coldstart-1", "body": "not a message"}])


def answer_of(probe: dict[str, str], result: Result) -> dict[str, Any]:
    """The result in the shape tools.bench.coldstart.is_expected reads."""
    if result.error_type is not None:
        return {"error": result.error_type, **result.error}
    payload: dict[str, Any] = json.loads(result.payload)
    if probe["kind"] == "http":
        return {"status": int(payload["statusCode"])}
    return {"failures": len(payload.get("batchItemFailures") or [])}


async def cold_start(
    spec: FunctionSpec, probe: dict[str, str], logs: Path
) -> tuple[float, dict[str, Any]]:
    """Seconds from a new environment's spawn to its first answer, and the answer."""
    pool = Pool(spec, FunctionLog(logs / f"lambda-{spec.name}.log"))
    body = json.dumps(event_of(probe)).encode()
    began = time.perf_counter()
    try:
        if probe["kind"] == "import":  # as the in-process probe: the module loaded, no call
            failed = await pool.prewarm()
            answer = {"imported": True} if failed is None else failed.error
            return time.perf_counter() - began, answer
        result = await pool.invoke(body, "benchmark")
        return time.perf_counter() - began, answer_of(probe, result)
    finally:
        await pool.stop()
        pool.logs.close()


def _summary(name: str, seconds: list[float]) -> Measurement:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return Measurement(
        name,
        len(seconds),
        1,
        len(seconds) / sum(seconds),
        statistics.median(seconds) * 1000,
        p99 * 1000,
    )


def warm_calls(options: BenchOptions) -> int:
    """Invocations per path: 200 in a full run, 20 in a quick one."""
    return max(20, options.requests // 50)


async def bench_warm(options: BenchOptions) -> Benchmark:
    """Warm invocations through the Runtime API against the in-process path."""
    from shared import ports
    from shared.composition import build_runtime
    from shared.config_load import load_settings
    from shared.db import migrate
    from shared.handlers.context import LambdaContext
    from shared.handlers.loop import thread_loop
    from tools.bench.coldprobe import NoDispatch

    calls = warm_calls(options)
    fn = load_table(ROOT / "serverless.yml").functions[WARM_FUNCTION]
    probe = {"kind": "http", "path": "/api/v1/health", "route": "GET /api/v1/health"}
    with tempfile.TemporaryDirectory(prefix="quarry-warm-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/warm.db"
        await asyncio.to_thread(migrate.upgrade, url)
        settings = load_settings(
            {"QUARRY_ENV": "dev", "QUARRY_DATABASE_URL": url, "QUARRY_RATE_LIMIT_PER_S": "0"}
        )
        runtime = build_runtime(settings, dispatcher=NoDispatch())
        ports.install(runtime)
        handler, _ = load_handler(fn)
        options.meter.start("warm invocations", 2 * calls)
        executor = ThreadPoolExecutor(1, "lambda", initializer=thread_loop)
        loop = asyncio.get_running_loop()

        async def in_process() -> None:
            context = LambdaContext(fn.name, timeout_s=fn.timeout)
            result = await loop.run_in_executor(executor, handler, event_of(probe), context)
            if int(result["statusCode"]) != 200:
                raise BenchError(f"{fn.name} answered {result['statusCode']} in process")

        spec = (await specs_for([WARM_FUNCTION], url))[WARM_FUNCTION]
        pool = Pool(spec, FunctionLog(Path(tmp) / f"lambda-{fn.name}.log"))

        async def through_runtime_api() -> None:
            result = await pool.invoke(json.dumps(event_of(probe)).encode(), "benchmark")
            if answer_of(probe, result).get("status") != 200:
                raise BenchError(f"{fn.name} answered {result.payload[:200]!r} in its environment")

        try:
            await through_runtime_api()  # the cold start, not measured
            await in_process()
            measured = [
                _summary(IN_PROCESS, await _time(in_process, calls, options)),
                _summary(RUNTIME_API, await _time(through_runtime_api, calls, options)),
            ]
        finally:
            await pool.stop()
            pool.logs.close()
            executor.shutdown(wait=True)
            await runtime.close()
            ports.install(None)
    return to_benchmark("warm-invoke", WARM_DESCRIPTION, IN_PROCESS, measured)


async def _time(call: Callable[[], Any], calls: int, options: BenchOptions) -> list[float]:
    seconds = []
    for _ in range(calls):
        began = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - began)
        options.meter.advance()
    return seconds

"""The Lambda service of `quarry up --aws`: every function's pool of execution environments
behind Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), which the
gateway instances, the SQS pollers and the scheduler call; its own /metrics (cold starts,
init time, invocations, throttles, timeouts); and, at start-up, one environment per function
initialised and kept warm, so a function that cannot initialise is reported at once.

Run as `python -m emulator.execution.service PORT SPEC_FILE` (emulator/execution/spec.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.execution.logsink import FunctionLog
from emulator.execution.pool import Pool, ThrottledError
from emulator.execution.spec import ServiceSpec, function_specs
from shared.logs import configure_logging, get_logger

log = get_logger("quarry.lambda")
INIT_CONCURRENCY = 4  # environments initialising at once at start-up (2 cores)
TRIGGER_HEADER = "x-quarry-trigger"  # http, sqs or schedule: the metrics' trigger label


class LambdaService:
    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.pools: dict[str, Pool] = {}
        for name, fn in function_specs(spec).items():
            self.pools[name] = Pool(fn, FunctionLog(spec.logs / f"lambda-{name}.log"))
        self.init_report: dict[str, dict[str, Any]] | None = None
        self.background: set[asyncio.Task[Any]] = set()

    async def initialise(self) -> None:
        """One warm environment per function; what failed is logged and reported."""
        gate = asyncio.Semaphore(INIT_CONCURRENCY)

        async def one(name: str, pool: Pool) -> tuple[str, dict[str, Any]]:
            async with gate:
                failed = await pool.prewarm()
            if failed is None:
                return name, {"ok": True}
            error = failed.error
            log.error(
                "function %s cannot initialise: %s: %s",
                name,
                failed.error_type,
                error.get("errorMessage", ""),
                extra={"function": name},
            )
            return name, {"ok": False, "errorType": failed.error_type, **error}

        results = await asyncio.gather(*(one(n, p) for n, p in self.pools.items()))
        self.init_report = dict(results)

    async def invoke(self, request: Request) -> Response:
        name = request.path_params["name"]
        pool = self.pools.get(name) or self.pools.get(
            name.removeprefix(f"{self.spec.service}-{self.spec.stage}-")
        )
        if pool is None:
            return _aws_error(404, "ResourceNotFoundException", f"Function not found: {name}")
        body = await request.body()
        trigger = request.headers.get(TRIGGER_HEADER, "invoke")
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if kind == "Event":  # asynchronous: accepted now, run in the background
            task = asyncio.create_task(self._quietly(pool, body, trigger))
            self.background.add(task)
            task.add_done_callback(self.background.discard)
            return Response(status_code=202)
        try:
            result = await pool.invoke(body, trigger)
        except ThrottledError:
            return _aws_error(429, "TooManyRequestsException", "Rate Exceeded.")
        headers = {"x-amz-executed-version": "$LATEST", "content-type": "application/json"}
        if result.error_type is not None:
            headers["x-amz-function-error"] = "Unhandled"
        return Response(result.payload, status_code=200, headers=headers)

    async def _quietly(self, pool: Pool, body: bytes, trigger: str) -> None:
        try:
            await pool.invoke(body, trigger)
        except ThrottledError:
            log.warning("asynchronous invocation of %s throttled", pool.spec.name)

    def environments(self, request: Request) -> Response:
        """Every environment: its function, process, state and import path."""
        out = []
        for name, pool in self.pools.items():
            for env in pool.environments:
                out.append(
                    {
                        "function": name,
                        "id": env.id,
                        "pid": env.pid,
                        "alive": env.alive,
                        "invocations": env.invocations,
                        "init_s": env.init_s,
                        "sys_path": env.sys_path,
                        "executable": env.executable,
                    }
                )
        return JSONResponse({"environments": out})

    def init(self, request: Request) -> Response:
        if self.init_report is None:
            return JSONResponse({"status": "initialising"}, status_code=503)
        return JSONResponse({"functions": self.init_report})

    async def stop(self) -> None:
        await asyncio.gather(*(pool.stop() for pool in self.pools.values()))


def _aws_error(status: int, kind: str, message: str) -> Response:
    return JSONResponse(
        {"Type": "User", "message": message}, status_code=status, headers={"x-amzn-errortype": kind}
    )


def app_of(service: LambdaService) -> Starlette:
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/2015-03-31/functions/{name}/invocations", service.invoke, methods=["POST"]),
            Route("/quarry/environments", service.environments),
            Route("/quarry/init", service.init),
            Route("/metrics", metrics),
        ]
    )


async def serve(port: int, spec_path: Path) -> None:
    configure_logging(os.environ.get("QUARRY_LOG_LEVEL", "INFO"))
    service = LambdaService(ServiceSpec.load(spec_path))
    config = uvicorn.Config(
        app_of(service), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    initialising = asyncio.create_task(service.initialise())
    try:
        await server.serve()  # until SIGTERM
    finally:
        initialising.cancel()
        await asyncio.gather(initialising, return_exceptions=True)
        await service.stop()


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit("usage: python -m emulator.execution.service PORT SPEC_FILE")
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    asyncio.run(serve(int(argv[0]), Path(argv[1])))


if __name__ == "__main__":
    main(sys.argv[1:])

"""A gateway instance of the stack: the API functions or the dashboard, on one port,
with its own /metrics. Run as `python -m emulator.stack.instance ROLE PORT`."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import uvicorn

from emulator.execution.client import endpoint as lambda_endpoint
from emulator.execution.client import remote_handlers
from emulator.gateway import Gateway
from emulator.table import functions_for, load_table
from shared import ports
from shared.composition import build_runtime
from shared.config_load import load_settings
from shared.handlers.invocation import declare_memory
from shared.handlers.loop import close_idle_loops
from shared.logs import configure_logging
from shared.metering.ledger import flushing

ROLES = ("api", "web")


async def serve(role: str, port: int, table_path: Path) -> None:
    settings = load_settings(os.environ, Path("quarry.toml"))
    configure_logging(settings.log_level)
    table = load_table(table_path)
    runtime = build_runtime(settings, stages=[f.name for f in table.stages()])
    ports.install(runtime)
    await runtime.start()
    hosted = functions_for(table, role)
    for fn in hosted.functions.values():
        declare_memory(fn.name, fn.memory, fn.architecture)
    url = lambda_endpoint()
    handlers = None
    if url is not None:  # the functions run in execution environments (`quarry up --aws`)
        timeouts = {fn.name: fn.timeout for fn in hosted.http()}
        handlers = remote_handlers(url, timeouts, "http")
    gateway = Gateway(hosted, handlers=handlers)
    config = uvicorn.Config(
        gateway,
        host=settings.bind_host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    try:
        async with flushing(runtime.db):  # the invocation ledger, written every second
            await uvicorn.Server(config).serve()  # drains in-flight requests on SIGTERM
            gateway.executor.shutdown(wait=True)
    finally:
        gateway.executor.shutdown(wait=True)
        await runtime.close()
        close_idle_loops()


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[0] not in ROLES:
        sys.exit("usage: python -m emulator.stack.instance {api|web} PORT [TABLE]")
    table = Path(argv[2]) if len(argv) > 2 else Path("serverless.yml")
    asyncio.run(serve(argv[0], int(argv[1]), table))


if __name__ == "__main__":
    main(sys.argv[1:])

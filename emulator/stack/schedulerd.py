"""The stack's scheduler process: schedule events, source schedules and the outbox relay.
Run as `python -m emulator.stack.schedulerd METRICS_PORT [TABLE]`; several may run."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server

from emulator import scheduler
from emulator.execution.client import endpoint as lambda_endpoint
from emulator.execution.client import remote_handlers
from emulator.table import load_handler, load_table
from shared import ports
from shared.composition import build_runtime
from shared.config_load import load_settings
from shared.handlers.invocation import declare_memory
from shared.logs import configure_logging, get_logger
from shared.metering.ledger import flushing

log = get_logger("quarry.schedulerd")


async def run(port: int, table_path: Path) -> None:
    settings = load_settings(os.environ, Path("quarry.toml"))
    configure_logging(settings.log_level)
    table = load_table(table_path)
    scheduled = [fn for fn in table.functions.values() if fn.schedules]
    url = lambda_endpoint()
    handlers: dict[str, Any]
    if url is not None:  # the functions run in execution environments: invoke them there
        handlers = dict(remote_handlers(url, {fn.name: fn.timeout for fn in scheduled}, "schedule"))
    else:
        handlers = {fn.name: load_handler(fn)[0] for fn in scheduled}
    runtime = build_runtime(settings, stages=[f.name for f in table.stages()])
    ports.install(runtime)
    await runtime.start()
    start_http_server(port, addr=settings.bind_host)
    targets = scheduler.targets_of([table.functions[n] for n in handlers], handlers)
    me = f"scheduler-{socket.gethostname()}-{os.getpid()}"
    task = asyncio.create_task(
        scheduler.run(runtime, targets, me, eventbridge_only=url is not None)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    for fn in table.functions.values():
        declare_memory(fn.name, fn.memory, fn.architecture)
    log.info("scheduler ready", extra={"targets": len(targets)})
    async with flushing(runtime.db):  # scheduled stage invocations are metered too
        await stop.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await runtime.close()


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m emulator.stack.schedulerd METRICS_PORT [TABLE]")
    asyncio.run(run(int(argv[0]), Path(argv[1]) if len(argv) > 1 else Path("serverless.yml")))


if __name__ == "__main__":
    main(sys.argv[1:])

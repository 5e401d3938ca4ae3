"""The embedded platform: one process with SQLite, Taskiq's in-process broker, an
in-process cache, the gateway, the schedules and the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskiq import InMemoryBroker

from emulator import scheduler
from emulator.gateway import GATEWAY_CONCURRENCY, Gateway, Mode
from emulator.table import Table, load_handler, load_table
from emulator.tasks import stage_task
from shared import ports
from shared.composition import build_runtime
from shared.config import Settings
from shared.db import migrate
from shared.dispatch.taskiq import TaskiqDispatcher
from shared.flow import FLOW, Flow
from shared.handlers.invocation import declare_memory, record_init
from shared.handlers.loop import close_idle_loops
from shared.logs import get_logger
from shared.metering.ledger import flushing

log = get_logger("quarry.emulator")
ROOT = Path(__file__).resolve().parent.parent
# Stage invocations (each a batch) the in-process broker runs at once. Each holds at most one
# database connection at a time, as does each HTTP invocation the gateway runs on the same
# loop (GATEWAY_CONCURRENCY), so the loop's pool is sized from both: one connection per
# invocation, and PLATFORM_CONNECTIONS for the scheduler's relay and a caller's own reads on
# that loop. No task then waits on a connection it cannot get.
STAGE_INVOCATIONS = 8
PLATFORM_CONNECTIONS = 2


@dataclass
class Embedded:
    """A running embedded platform; `gateway` is the ASGI app to serve or call."""

    settings: Settings
    table: Table
    runtime: ports.Runtime
    broker: InMemoryBroker
    gateway: Gateway
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def idle(self) -> None:
        """Wait until no stage work is left in the broker (tests and the demo use it)."""
        while self.broker._running_tasks:
            await self.broker.wait_all()


@contextlib.asynccontextmanager
async def embedded(
    settings: Settings,
    table_path: Path = ROOT / "serverless.yml",
    *,
    mode: Mode = "event",
    background: bool = True,
    flow: Flow = FLOW,
    invocations: int = STAGE_INVOCATIONS,
) -> AsyncIterator[Embedded]:
    """Start the embedded platform on the running loop; stop it when the block ends.
    `flow` is the pipeline's (tests run others); `invocations` the stage concurrency."""
    table = load_table(table_path)
    handlers: dict[str, Any] = {}
    for fn in table.functions.values():  # every declaration must import before start-up
        handlers[fn.name], seconds = load_handler(fn)
        record_init(fn.name, seconds)
        declare_memory(fn.name, fn.memory, fn.architecture)
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    broker = InMemoryBroker(propagate_exceptions=False)
    dispatcher = TaskiqDispatcher(broker, asyncio.get_running_loop(), invocations=invocations)
    for fn in table.stages():
        body = stage_task(handlers[fn.name], fn, dispatcher.resend)
        rank = flow.names.index(fn.name) if fn.name in flow.names else 0
        dispatcher.register(fn.name, body, batch_size=fn.batch_size, rank=rank)
    runtime = build_runtime(
        settings,
        dispatcher=dispatcher,
        pool_size=invocations + GATEWAY_CONCURRENCY + PLATFORM_CONNECTIONS,
        flow=flow,
    )
    ports.install(runtime)
    await broker.startup()
    gateway = Gateway(table, mode=mode)
    platform = Embedded(settings, table, runtime, broker, gateway)
    if background:
        targets = scheduler.targets_of(list(table.functions.values()), handlers)
        job = scheduler.run(runtime, targets, f"dev-{os.getpid()}")
        platform.tasks.append(asyncio.create_task(job))
    try:
        async with flushing(runtime.db):  # the invocation ledger, written every second
            try:
                yield platform
            finally:
                for task in platform.tasks:
                    task.cancel()
                await asyncio.gather(*platform.tasks, return_exceptions=True)
                await platform.idle()
                await broker.shutdown()
                gateway.executor.shutdown(wait=True)
    finally:
        await runtime.close()
        close_idle_loops()
        ports.install(None)

"""The embedded platform on the AWS path: SQLite, the gateway, and the stage handlers fed
by SQS pollers from queues created in a local AWS emulator (tests and demos of the SQS port)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.aws.poller import SqsPoller
from emulator.aws.queues import create_queues, queue_specs
from emulator.gateway import Gateway
from emulator.table import Table, load_handler, load_table, read_document
from shared import ports
from shared.aws import client
from shared.composition import build_runtime
from shared.config import Settings
from shared.db import migrate
from shared.dispatch.sqs import SqsDispatcher
from shared.errors import ConfigError
from shared.handlers.loop import close_idle_loops


@dataclass
class AwsEmbedded:
    settings: Settings
    table: Table
    runtime: ports.Runtime
    gateway: Gateway
    sqs: Any
    queues: dict[str, str]
    pollers: list[SqsPoller] = field(default_factory=list)


@contextlib.asynccontextmanager
async def aws_embedded(
    settings: Settings, table_path: Path, *, retry_delay_s: float = 0.0
) -> AsyncIterator[AwsEmbedded]:
    """Run the platform with SQS dispatch at `settings.aws_endpoint` for the block."""
    if settings.aws_endpoint is None:
        raise ConfigError("the AWS path needs QUARRY_AWS_ENDPOINT (a local AWS emulator)")
    table = load_table(table_path)
    sqs = client("sqs", settings.aws_endpoint)
    queues = await asyncio.to_thread(create_queues, sqs, queue_specs(read_document(table_path)))
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    dispatcher = SqsDispatcher(sqs, settings.sqs_queue_prefix)
    runtime = build_runtime(settings, dispatcher=dispatcher)
    ports.install(runtime)
    gateway = Gateway(table)
    platform = AwsEmbedded(settings, table, runtime, gateway, sqs, queues)
    for fn in table.stages():
        handler, _ = load_handler(fn)
        url = await asyncio.to_thread(dispatcher.queue_url, fn.name)
        platform.pollers.append(
            SqsPoller(sqs, fn, handler, url, wait_s=0, retry_delay_s=retry_delay_s, idle_s=0.05)
        )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(p.run(stop)) for p in platform.pollers]
    try:
        yield platform
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        gateway.executor.shutdown(wait=True)
        await runtime.close()
        close_idle_loops()
        ports.install(None)

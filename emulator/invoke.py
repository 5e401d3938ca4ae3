"""`quarry invoke`: run one function once with an event, like `serverless invoke local`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emulator.table import load_handler, load_table
from shared import ports
from shared.composition import build_runtime
from shared.config import Settings
from shared.db import migrate
from shared.errors import ConfigError, UnavailableError
from shared.handlers.context import LambdaContext
from shared.handlers.invocation import declare_memory
from shared.metering.ledger import LEDGER


class HeldDispatcher:
    """Dispatch for a single invocation: nothing downstream runs, so messages stay in
    the outbox, where the next `quarry dev` relays them."""

    def __init__(self) -> None:
        self.held = 0

    async def send(self, stage: str, bodies: Sequence[dict[str, Any]]) -> None:
        self.held += len(bodies)
        raise UnavailableError(f"{len(bodies)} message(s) for {stage} held in the outbox")


def invoke(settings: Settings, table_path: Path, function: str, event: Any) -> Any:
    """Invoke `function`'s handler with `event` and a Lambda context; returns its result."""
    table = load_table(table_path)
    fn = table.functions.get(function)
    if fn is None:
        raise ConfigError(
            f"no function {function!r} in {table_path}; functions: {', '.join(table.functions)}"
        )
    migrate.upgrade(settings.database_url)
    handler, _ = load_handler(fn)
    declare_memory(fn.name, fn.memory, fn.architecture)
    runtime = build_runtime(settings, dispatcher=HeldDispatcher())
    ports.install(runtime)
    try:
        context = LambdaContext(fn.name, timeout_s=fn.timeout, memory_limit_in_mb=fn.memory)
        return handler(event, context)
    finally:
        ports.install(None)
        asyncio.run(_record(runtime))


async def _record(runtime: ports.Runtime) -> None:
    """Write the invocation to the ledger, as a Lambda handler does before it returns."""
    await LEDGER.flush_quietly(runtime.db)
    await runtime.close()

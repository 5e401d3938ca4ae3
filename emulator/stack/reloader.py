"""Hot reload for `quarry up`: watch the project's files and restart, one at a time, only
the processes whose import closure holds a changed file."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from emulator.reload import plan, project_files, roots_of, scan
from emulator.stack.supervisor import Report, Supervisor
from emulator.stack.topology import ROOT
from emulator.table import load_table
from emulator.watch import changes
from shared.errors import ConfigError, QuarryError


async def reload_on_change(supervisor: Supervisor, table_path: Path, report: Report) -> None:
    """Run until cancelled: each batch of changed files becomes one rolling restart."""
    config = [table_path, ROOT / "quarry.toml"]  # the services run in ROOT

    def watched() -> list[Path]:
        return [*project_files(ROOT), *config]

    async for found in changes(watched):
        try:
            table = load_table(table_path)
        except QuarryError as exc:
            report(f"reload: {table_path.name} does not load ({exc.detail}); not restarting")
            continue
        graph = await asyncio.to_thread(scan, ROOT)
        processes = {
            name: roots
            for name, run in supervisor.running.items()
            if (roots := roots_of(run.service.argv, table)) is not None
        }
        todo = plan(found, graph, processes, table, config)
        report(todo.message)
        if todo.broken or not todo.services:
            continue
        began = time.monotonic()
        try:
            await supervisor.rolling_restart(list(todo.services))
        except ConfigError as exc:
            report(f"reload: stopped, the rest keep their previous code: {exc.detail}")
            continue
        report(f"reload: {len(todo.services)} restarted in {time.monotonic() - began:.1f} s")

"""`quarry dev`: serve the embedded platform and, unless told not to, run the demo site;
restart the process when a source file it runs changes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from emulator.demo import serve_site
from emulator.hosts import LoopbackHosts
from emulator.openapi import stale_notice
from emulator.parity import startup_summary
from emulator.platform import ROOT, Embedded, embedded
from emulator.reload import plan, project_files, scan
from emulator.table import load_table
from emulator.watch import changes
from shared.config import Settings
from shared.errors import ConfigError, QuarryError
from shared.flow import FLOW
from shared.metering.ledger import LEDGER
from shared.metering.usage import usd

console = Console()
RELOAD_STARTED = "_QUARRY_DEV_RELOAD_STARTED"  # not QUARRY_*: settings refuse unknown keys


def check_port(port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigError(
                f"port {port} on 127.0.0.1 is taken ({exc.strerror}); pick another with --port"
            ) from exc


async def _serve(app: Any, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            return server, task
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    raise ConfigError(f"the gateway did not start on port {port} within 10 s")


async def run_demo(client: httpx.AsyncClient, site: str) -> dict[str, Any]:
    """Register the demo site as a source, start a run, and show it stage by stage."""
    created = await client.post(
        "/api/v1/sources",
        json={"name": "Quarry Gazette (demo site)", "kind": "site", "url": site + "/"},
    )
    created.raise_for_status()
    started = await client.post("/api/v1/runs", json={"source_id": created.json()["id"]})
    started.raise_for_status()
    run_id = started.json()["id"]
    columns = (
        TextColumn("{task.description:<13}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bars = {name: progress.add_task(name, total=None) for name in FLOW.names}
        while True:
            run = (await client.get(f"/api/v1/runs/{run_id}")).json()
            expected = FLOW.expected(run["discovered"], run["stages"])
            for name, total in expected.items():
                done = sum(run["stages"].get(name, {}).values())
                progress.update(bars[name], total=total, completed=done)
            if run["state"] in ("succeeded", "failed", "cancelled"):
                if FLOW.on_final is not None:
                    progress.update(bars[FLOW.on_final.name], total=1, completed=1)
                return dict(run)
            await asyncio.sleep(0.2)


async def _demo(url: str, site: str, platform: Embedded) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        run = await run_demo(client, site)
        await platform.idle()  # the analytics invocation, part of the run's cost
        await LEDGER.flush(platform.runtime.db)
        run = (await client.get(f"/api/v1/runs/{run['id']}")).json()
    counts = [run["stages"].get(s.name, {}) for s in FLOW.document_stages]
    console.print(
        f"Demo run [bold]{run['state']}[/]: {run['discovered']} documents, "
        f"{counts[-1].get('succeeded', 0)} analysed, "
        f"{sum(c.get('skipped', 0) for c in counts)} skipped, "
        f"{sum(c.get('failed', 0) for c in counts)} refused or failed. "
        f"See {url}/"
    )
    console.print(cost_line(run, url))


def cost_line(run: dict[str, Any], url: str) -> str:
    """The demo's closing line: its estimated AWS bill, per 1,000 documents, and where the
    breakdown is."""
    cost = run.get("cost") or {}
    total = float((cost.get("cost") or {}).get("total_usd", 0.0))
    documents = run.get("discovered") or 0
    per = f"{usd(total * 1000 / documents)} per 1,000 documents" if documents else "no documents"
    return (
        f"Estimated AWS cost of this run: {usd(total)}, {per} "
        f"at {cost.get('region', '?')} prices (an estimate from this machine's timings; "
        f"the breakdown: {url}/runs/{run['id']})"
    )


async def dev(settings: Settings, port: int, demo: bool, table: Path, reload: bool = True) -> None:
    """Run until interrupted; with `reload`, re-run this process (SQLite data kept, demo
    not run again) when a source file it runs changes."""
    check_port(port)
    wanted: list[str] = []
    with contextlib.ExitStack() as stack:
        site = stack.enter_context(serve_site()) if demo else None
        if site:
            host = site.split("//", 1)[1]
            settings = settings.model_copy(
                update={"fetch_allow_hosts": (*settings.fetch_allow_hosts, host)}
            )
        async with embedded(settings, table) as platform:
            server, serving = await _serve(LoopbackHosts(platform.gateway, port), port)
            url = f"http://127.0.0.1:{port}"
            began = os.environ.pop(RELOAD_STARTED, None)
            if began is not None:
                took = time.monotonic() - float(began)
                console.print(f"[cyan]reload: serving again on {url} after {took:.1f} s[/]")
            else:
                console.print(
                    Panel.fit(
                        f"[bold]Quarry dev[/] is serving on [cyan]{url}[/]\n"
                        f"  dashboard   {url}/\n  API docs    {url}/api/docs\n"
                        f"  OpenAPI     {url}/api/openapi.json\n  metrics     {url}/metrics\n"
                        + (f"  demo site   {site}/\n" if site else "")
                        + f"  database    {settings.database_url}\n"
                        + ("  reload      on: saving a source file restarts\n" if reload else "")
                        + "Press Ctrl-C to stop.",
                        title="⛏ Quarry",
                        border_style="cyan",
                    )
                )
                console.print(startup_summary(table, "dev"))
                stale = stale_notice(platform.table)
                if stale is not None:
                    console.print(f"[yellow]{stale}[/]", soft_wrap=True)
            background = [asyncio.create_task(_demo(url, site, platform))] if site else []
            if reload:
                background.append(asyncio.create_task(_restart_on_change(server, table, wanted)))
            try:
                await serving  # uvicorn returns on Ctrl-C or SIGTERM after draining requests
            finally:
                for task in background:
                    task.cancel()
                await asyncio.gather(*background, return_exceptions=True)
    if wanted:  # everything is closed and the port is free: become a fresh process
        _reexec(port, table, wanted[0])


def _config_files(table: Path) -> list[Path]:
    """A change to these reaches every function: the table and quarry.toml."""
    return [table.resolve(), Path("quarry.toml").resolve()]


async def _restart_on_change(server: uvicorn.Server, table: Path, wanted: list[str]) -> None:
    """Stop the server, noting what to print, once a file this process runs has changed."""
    config = _config_files(table)

    def watched() -> list[Path]:
        return [*project_files(ROOT), *config]

    async for found in changes(watched):
        try:
            fns = load_table(table)
        except QuarryError as exc:
            console.print(f"[yellow]reload: {table} does not load ({exc.detail}); waiting[/]")
            continue
        roots = frozenset({"cli.main", *(fn.module for fn in fns.functions.values())})
        graph = await asyncio.to_thread(scan, ROOT)
        todo = plan(found, graph, {"quarry dev": roots}, fns, config)
        if todo.broken or not todo.services:
            console.print(f"[yellow]{todo.message}[/]", soft_wrap=True)
            continue
        functions = ", ".join(todo.functions) or "none, platform code only"
        files = ", ".join(todo.files)
        wanted.append(f"reload: {files} changed → restarting (functions: {functions})")
        server.should_exit = True
        return


def _reexec(port: int, table: Path, message: str) -> None:
    console.print(f"[cyan]{message}[/]", soft_wrap=True)
    os.environ[RELOAD_STARTED] = str(time.monotonic())
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([path] if path else [])])
    args = ["dev", "--port", str(port), "--table", str(table), "--no-demo"]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "cli.main", *args])

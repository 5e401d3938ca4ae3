"""`quarry dev`: serve the embedded platform and, unless told not to, run the demo site."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from emulator.demo import serve_site
from emulator.platform import embedded
from shared.config import Settings
from shared.errors import ConfigError

STAGES = ("discovery", "extraction", "intelligence", "analytics")
console = Console()


def check_port(port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigError(
                f"port {port} on 127.0.0.1 is taken ({exc.strerror}); pick another with --port"
            ) from exc


async def _serve(app: Any, port: int) -> asyncio.Task[None]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            return task
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
        bars = {name: progress.add_task(name, total=None) for name in STAGES}
        while True:
            run = (await client.get(f"/api/v1/runs/{run_id}")).json()
            total = run["discovered"]
            for name in STAGES[:3]:
                counts = run["stages"].get(name, {})
                done = sum(counts.values())
                if name == "intelligence" and total is not None:
                    ex = run["stages"].get("extraction", {})
                    expected = ex.get("succeeded", 0)
                    pending_ex = total - sum(ex.values())
                    progress.update(bars[name], total=expected + pending_ex, completed=done)
                else:
                    progress.update(bars[name], total=total, completed=done)
            if run["state"] in ("succeeded", "failed", "cancelled"):
                progress.update(bars["analytics"], total=1, completed=1)
                return dict(run)
            await asyncio.sleep(0.2)


async def dev(settings: Settings, port: int, demo: bool, table: Path) -> None:
    """Run until interrupted."""
    check_port(port)
    with contextlib.ExitStack() as stack:
        site = stack.enter_context(serve_site()) if demo else None
        if site:
            host = site.split("//", 1)[1]
            settings = settings.model_copy(
                update={"fetch_allow_hosts": (*settings.fetch_allow_hosts, host)}
            )
        async with embedded(settings, table) as platform:
            serving = await _serve(platform.gateway, port)
            url = f"http://127.0.0.1:{port}"
            console.print(
                Panel.fit(
                    f"[bold]Quarry dev[/] is serving on [cyan]{url}[/]\n"
                    f"  dashboard   {url}/\n  API docs    {url}/api/docs\n"
                    f"  OpenAPI     {url}/api/openapi.json\n  metrics     {url}/metrics\n"
                    + (f"  demo site   {site}/\n" if site else "")
                    + f"  database    {settings.database_url}\nPress Ctrl-C to stop.",
                    title="⛏ Quarry",
                    border_style="cyan",
                )
            )
            if site:
                async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                    run = await run_demo(client, site)
                    counts = run["stages"]
                    console.print(
                        f"Demo run [bold]{run['state']}[/]: {run['discovered']} documents, "
                        f"{counts.get('intelligence', {}).get('succeeded', 0)} analysed, "
                        f"{counts.get('extraction', {}).get('skipped', 0)} skipped, "
                        f"{counts.get('extraction', {}).get('failed', 0)} refused or failed. "
                        f"See {url}/"
                    )
            await serving  # uvicorn returns on Ctrl-C or SIGTERM after draining requests

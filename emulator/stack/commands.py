"""`quarry up`, `ps`, `logs` and `down`: the stack from one terminal, watched from others."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from shared.errors import ConfigError, QuarryError
from shared.redaction import redact_url

if TYPE_CHECKING:
    from emulator.stack.supervisor import Supervisor

STATE = Path(".quarry") / "stack"
console = Console(stderr=True)
TableOpt = Annotated[Path, typer.Option("--table", help="The function table.")]


def _state() -> dict[str, Any]:
    path = STATE / "stack.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _alive(pid: int | None) -> bool:
    """Whether the process runs; an exited one its parent has not reaped yet (a zombie: the
    supervisor started by a script that is itself waiting on `quarry down`) does not."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # no /proc (macOS): signal 0 is all there is
        return True
    return state != "Z"


async def _up(
    api: int,
    web: int,
    table_path: Path,
    reload: bool = True,
    workers: list[str] | None = None,
    aws: bool = False,
    in_process: bool = False,
) -> int:
    # The stack's machinery is imported here, so `quarry --help` and `ps` stay quick.
    from emulator.parity import startup_summary
    from emulator.stack.reloader import reload_on_change
    from emulator.stack.supervisor import Supervisor
    from emulator.stack.topology import Shape, services
    from emulator.table import load_table

    running = _state().get("supervisor_pid")
    if _alive(running) and running != os.getpid():
        console.print(
            f"[red]error:[/] a stack is already running (pid {running}); run `quarry down` first"
        )
        return 2
    table = load_table(table_path)
    stages = parse_workers(workers or [], [f.name for f in table.stages()])
    if aws:  # before anything is built: without moto's server there is nothing to run on
        from emulator.aws.server import localstack_running, require_moto

        if not (in_process and localstack_running()):
            require_moto()
    artefacts = None
    if aws and not in_process:
        from emulator.artefacts.stack import prepare

        with console.status("packaging the functions as `serverless deploy` would…"):
            artefacts = await asyncio.to_thread(prepare, table_path, _say)
        if reload:
            _say(
                "hot reload is off: functions run from their packages (run `quarry up --aws` "
                "again to package changes, or add --in-process)"
            )
            reload = False
    shape = Shape(api, web, stages, aws, artefacts)
    specs, entry = services(STATE, table, shape, table_path)
    supervisor = Supervisor(specs, STATE, lambda line: console.print(f"[yellow]{line}[/]"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    supervisor.save(ready=False)
    started = time.monotonic()
    with console.status(
        "starting the stack: data services, replica, migrations, "
        "instances, workers, nginx, prometheus…"
    ):
        start = asyncio.create_task(supervisor.start())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({start, stopper}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if start.done() and start.exception() is None:
        supervisor.save(ready=True)
        _print_table(supervisor, entry, time.monotonic() - started, reload)
        console.print(startup_summary(table_path, "aws" if aws else "stack"))
        if artefacts is not None:
            from emulator.artefacts.stack import init_report

            for line in await asyncio.to_thread(init_report, supervisor):
                console.print(line, soft_wrap=True)
        watcher = None
        if reload:
            watcher = asyncio.create_task(reload_on_change(supervisor, table_path, _say))
        await stopper
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
    elif start.done():
        exc = start.exception()
        console.print(f"[bold red]error:[/] {escape(str(getattr(exc, 'detail', exc)))}")
        code = 2
    else:
        start.cancel()
        await asyncio.gather(start, return_exceptions=True)
    stopper.cancel()
    with console.status("draining and stopping services in dependency order…"):
        await supervisor.stop()
    supervisor.save(ready=False)
    console.print("stack stopped.")
    return code


def _say(line: str) -> None:
    console.print(f"[cyan]{line}[/]", soft_wrap=True)


def parse_workers(specs: list[str], stages: list[str]) -> tuple[tuple[str, int], ...]:
    """`extraction=2` → (("extraction", 2),); a bad spec names what is accepted."""
    out: dict[str, int] = {}
    for spec in specs:
        stage, _, count = spec.partition("=")
        if stage not in stages or not count.isdigit() or not 1 <= int(count) <= 16:
            raise ConfigError(
                f"--workers {spec!r}: expected STAGE=N with N from 1 to 16 and STAGE one of "
                f"{', '.join(stages)}"
            )
        out[stage] = int(count)
    return tuple(out.items())


def _print_table(supervisor: Supervisor, entry: str, took: float, reload: bool) -> None:
    out = RichTable("service", "pid", "port", "url", title=f"Quarry stack ({took:.1f} s)")
    for run in supervisor.running.values():
        svc = run.service
        out.add_row(svc.name, str(run.process.pid), str(svc.port or ""), redact_url(svc.url or ""))
    Console().print(out)
    console.print(
        f"[bold green]ready:[/] {entry}/  ·  API docs {entry}/api/docs  ·  "
        "Ctrl-C or `quarry down` stops it"
    )
    if reload:
        console.print(
            "hot reload is on: a saved source file restarts, one at a time, only the "
            "processes that import it (--no-reload turns it off)"
        )


def up(
    api: Annotated[int, typer.Option(min=1, max=16, help="API gateway instances.")] = 3,
    web: Annotated[int, typer.Option(min=1, max=16, help="Dashboard instances.")] = 2,
    table: TableOpt = Path("serverless.yml"),
    reload: Annotated[
        bool,
        typer.Option(
            "--reload/--no-reload",
            help="Restart the processes a changed source file reaches, one at a time.",
        ),
    ] = True,
    workers: Annotated[
        list[str] | None,
        typer.Option("--workers", help="Worker processes of a stage, as STAGE=N (repeatable)."),
    ] = None,
    aws: Annotated[
        bool,
        typer.Option(
            "--aws",
            help="SQS as the queue, in a local AWS emulator (moto's server, from the optional "
            "extra quarry\\[aws-local], or a running LocalStack), polled per stage as Lambda's "
            "event source mappings do. Functions run from their packages in execution "
            "environments like Lambda's, with their IAM roles enforced.",
        ),
    ] = False,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process",
            help="With --aws: run handlers inside the gateway and worker processes, from this "
            "checkout (quicker to start, hot reload), instead of from their packages.",
        ),
    ] = False,
) -> None:
    """Run the full topology: nginx, API and dashboard instances, a worker per stage, a
    scheduler, Redis (queue and cache), Postgres primary + replica, Prometheus."""
    try:
        code = asyncio.run(_up(api, web, table.resolve(), reload, workers, aws, in_process))
    except QuarryError as exc:
        console.print(f"[bold red]error:[/] {escape(exc.detail)}")
        code = 2
    raise typer.Exit(code)


def ps() -> None:
    """List the stack's services, their processes and URLs."""
    state = _state()
    if not _alive(state.get("supervisor_pid")):
        console.print("no stack is running (start one with `quarry up`)")
        raise typer.Exit(1)
    out = RichTable("service", "state", "pid", "restarts", "reloads", "url")
    for name, svc in state.get("services", {}).items():
        status = "running" if _alive(svc["pid"]) else "[red]exited[/]"
        reloads = str(svc.get("reloads", 0))
        url = redact_url(svc["url"] or "")
        out.add_row(name, status, str(svc["pid"]), str(svc["restarts"]), reloads, url)
    Console().print(out)


def logs(
    service: Annotated[str | None, typer.Argument(help="One service; all when omitted.")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing.")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", help="Lines of history.")] = 40,
) -> None:
    """Print the logs of one service or of all of them."""
    folder = STATE / "logs"
    files = sorted(folder.glob("*.log")) if service is None else [folder / f"{service}.log"]
    missing = [f for f in files if not f.exists()]
    if missing or not files:
        known = ", ".join(sorted(f.stem for f in folder.glob("*.log"))) or "none yet"
        console.print(f"[red]error:[/] no log for {service!r}; services with logs: {known}")
        raise typer.Exit(2)
    offsets = {}
    for f in files:
        text = f.read_text(errors="replace").splitlines()[-lines:]
        for line in text:
            typer.echo(f"{f.stem:<20} {line}" if service is None else line)
        offsets[f] = f.stat().st_size
    while follow:
        time.sleep(0.5)
        for f in files:
            size = f.stat().st_size
            if size > offsets[f]:
                with f.open("rb") as fh:
                    fh.seek(offsets[f])
                    for line in fh.read().decode(errors="replace").splitlines():
                        typer.echo(f"{f.stem:<20} {line}" if service is None else line)
                offsets[f] = size


def down() -> None:
    """Stop the running stack: drain, stop services in order, leave no process behind."""
    state = _state()
    pid = int(state.get("supervisor_pid") or 0)
    if not _alive(pid):
        leftovers = [s["pid"] for s in state.get("services", {}).values() if _alive(s["pid"])]
        for child in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child, signal.SIGKILL)
        console.print(
            "no stack is running" + (f"; killed {len(leftovers)} orphans" if leftovers else "")
        )
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + float(state.get("drain_s", 60)) + 10
    with console.status(f"stopping the stack (pid {pid})…"):
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    if _alive(pid):
        console.print(f"[red]the supervisor (pid {pid}) did not stop in time; killing it[/]")
        os.kill(pid, signal.SIGKILL)
    for svc in state.get("services", {}).values():
        if _alive(svc["pid"]):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(svc["pid"], signal.SIGKILL)
    console.print("stack stopped.")

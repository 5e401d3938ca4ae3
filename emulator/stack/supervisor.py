"""The stack's supervisor: starts services in dependency order, waits until each is
healthy, restarts crashed ones with backoff, and stops them in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from shared.errors import ConfigError
from shared.logs import get_logger

log = get_logger("quarry.supervisor")
Report = Callable[[str], None]


@dataclass
class Service:
    """One process of the stack, run in the foreground so it can be watched and signalled."""

    name: str
    group: int  # start order; stopped in reverse
    argv: list[str]
    ready: Callable[[], Awaitable[bool]]
    prepare: Callable[[], None] | None = None
    stop_signal: int = signal.SIGTERM
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    url: str | None = None
    oneshot: bool = False
    drain_s: float = 10.0
    cwd: Path | None = None


@dataclass
class Running:
    service: Service
    process: asyncio.subprocess.Process
    log_path: Path
    started: float = field(default_factory=time.monotonic)
    restarts: int = 0


class Supervisor:
    def __init__(self, services: list[Service], state_dir: Path, report: Report) -> None:
        self.services = services
        self.state_dir = state_dir
        self.logs = state_dir / "logs"
        self.report = report
        self.running: dict[str, Running] = {}
        self.stopping = False
        self._watchers: list[asyncio.Task[None]] = []

    async def _spawn(self, svc: Service) -> asyncio.subprocess.Process:
        self.logs.mkdir(parents=True, exist_ok=True)
        out = (self.logs / f"{svc.name}.log").open("ab")
        try:
            return await asyncio.create_subprocess_exec(
                *svc.argv,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
                env={**os.environ, **svc.env},
                cwd=svc.cwd,
                start_new_session=True,
            )
        finally:
            out.close()

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    async def _await_ready(self, run: Running, deadline_s: float) -> None:
        svc = run.service
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if run.process.returncode is not None:
                if svc.oneshot and run.process.returncode == 0:
                    return
                raise ConfigError(
                    f"{svc.name} exited with code {run.process.returncode} "
                    f"while starting:\n{self.tail(svc.name)}"
                )
            if not svc.oneshot:
                with contextlib.suppress(Exception):
                    if await svc.ready():
                        return
            await asyncio.sleep(0.1)
        raise ConfigError(
            f"{svc.name} was not ready within {deadline_s:.0f} s "
            f"(waited for its health probe):\n{self.tail(svc.name)}"
        )

    async def start(self, deadline_s: float = 90.0) -> None:
        """Start every group in order; each group must be healthy before the next starts."""
        for group in sorted({s.group for s in self.services}):
            members = [s for s in self.services if s.group == group]
            for svc in members:
                if svc.prepare is not None:
                    await asyncio.to_thread(svc.prepare)
            for svc in members:
                proc = await self._spawn(svc)
                self.running[svc.name] = Running(svc, proc, self.logs / f"{svc.name}.log")
            await asyncio.gather(
                *(self._await_ready(self.running[s.name], deadline_s) for s in members)
            )
            for svc in members:
                if svc.oneshot:
                    self.running.pop(svc.name)
                else:
                    self._watchers.append(asyncio.create_task(self._watch(svc.name)))
            self.save()

    async def _watch(self, name: str) -> None:
        """Restart a crashed service with exponential backoff, reporting each crash."""
        backoff = 0.5
        while not self.stopping:
            run = self.running[name]
            code = await run.process.wait()
            if self.stopping:
                return
            if time.monotonic() - run.started > 60:
                backoff = 0.5
            self.report(f"{name} crashed (exit code {code}); restarting in {backoff:.1f} s")
            log.error("service crashed", extra={"service": name, "exit_code": code})
            await asyncio.sleep(backoff)
            backoff = min(30.0, backoff * 2)
            if self.stopping:
                return
            proc = await self._spawn(run.service)
            self.running[name] = Running(run.service, proc, run.log_path, restarts=run.restarts + 1)
            self.save()

    async def stop(self) -> None:
        """Stop groups in reverse order: each gets its stop signal and its drain time."""
        self.stopping = True
        for task in self._watchers:
            task.cancel()
        for group in sorted({s.group for s in self.services}, reverse=True):
            members = [r for r in self.running.values() if r.service.group == group]
            for run in members:
                if run.process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        run.process.send_signal(run.service.stop_signal)
            await asyncio.gather(*(self._reap(run) for run in members))
        self.running.clear()
        self.save()

    async def _reap(self, run: Running) -> None:
        try:
            await asyncio.wait_for(run.process.wait(), run.service.drain_s)
        except TimeoutError:
            self.report(f"{run.service.name} did not stop in {run.service.drain_s:.0f} s; killed")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.process.pid, signal.SIGKILL)
            await run.process.wait()

    def save(self, ready: bool | None = None) -> None:
        """Write .quarry/stack/stack.json so `quarry ps/logs/down` work from elsewhere."""
        path = self.state_dir / "stack.json"
        state = json.loads(path.read_text()) if path.exists() else {}
        state.update(
            {
                "supervisor_pid": os.getpid(),
                "services": {
                    r.service.name: {
                        "pid": r.process.pid,
                        "port": r.service.port,
                        "url": r.service.url,
                        "restarts": r.restarts,
                        "log": str(r.log_path),
                    }
                    for r in self.running.values()
                },
                "drain_s": max((s.drain_s for s in self.services), default=10.0),
            }
        )
        if ready is not None:
            state["ready"] = ready
        path.write_text(json.dumps(state, indent=2))

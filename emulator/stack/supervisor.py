"""The stack's supervisor: starts services in dependency order, waits until each is
healthy, restarts crashed ones with backoff, restarts changed ones one at a time (hot
reload), and stops them in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from shared.errors import ConfigError
from shared.logs import get_logger

log = get_logger("quarry.supervisor")
Report = Callable[[str], None]
# nginx's fail_timeout (emulator/stack/services/nginx.py): an instance that refused a connection is
# left out for this long, so the next instance of its pool waits until it is back in.
POOL_COOLDOWN_S = 5.0


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
    reloads: int = 0


class Supervisor:
    def __init__(self, services: list[Service], state_dir: Path, report: Report) -> None:
        self.services = services
        self.state_dir = state_dir
        self.logs = state_dir / "logs"
        self.report = report
        self.running: dict[str, Running] = {}
        self.stopping = False
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self.reloading = False

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
                    self._watch_again(svc.name)
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
            self.running[name] = Running(
                run.service, proc, run.log_path, restarts=run.restarts + 1, reloads=run.reloads
            )
            self.save()

    def _watch_again(self, name: str) -> None:
        self._watchers[name] = asyncio.create_task(self._watch(name))

    async def rolling_restart(
        self, names: list[str], deadline_s: float = 60.0, cooldown_s: float = POOL_COOLDOWN_S
    ) -> None:
        """Restart `names` one at a time, each stopped with its drain and started anew only
        once the previous one passes its health probe. An instance of a pool (api-1, api-2,
        …) stops only when another of its pool is up and out of nginx's `cooldown_s`, so the
        pool always has one instance that nginx sends requests to; other services are
        interleaved into that wait. Raises ConfigError, leaving the rest on their old code,
        when a new process does not become healthy."""
        self.reloading = True
        self.save()
        try:
            ready_at: dict[str, list[float]] = {}
            for name in interleave(names):
                if self.stopping:
                    return
                pool = pool_of(name)
                others = sum(pool_of(n) == pool for n in self.running) - 1
                recent = ready_at.setdefault(pool, [])
                if others and len(recent) >= others:
                    wait = recent[-others] + cooldown_s - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                await self._restart(name, deadline_s)
                recent.append(time.monotonic())
        finally:
            self.reloading = False
            self.save()

    async def _restart(self, name: str, deadline_s: float) -> None:
        watcher = self._watchers.pop(name, None)
        if watcher is not None:  # a deliberate stop is not a crash to report and restart
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        run = self.running[name]
        if run.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                run.process.send_signal(run.service.stop_signal)
        await self._reap(run)
        if self.stopping:
            return
        proc = await self._spawn(run.service)
        fresh = Running(
            run.service, proc, run.log_path, restarts=run.restarts, reloads=run.reloads + 1
        )
        self.running[name] = fresh
        self.save()
        try:
            await self._await_ready(fresh, deadline_s)
        finally:
            self._watch_again(name)  # from here on an exit is a crash again

    async def stop(self) -> None:
        """Stop groups in reverse order: each gets its stop signal and its drain time."""
        self.stopping = True
        for task in self._watchers.values():
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
                        "reloads": r.reloads,
                        "log": str(r.log_path),
                    }
                    for r in self.running.values()
                },
                "drain_s": max((s.drain_s for s in self.services), default=10.0),
            }
        )
        state["reloading"] = self.reloading
        if ready is not None:
            state["ready"] = ready
        # Service URLs carry the stack's passwords: for this user's eyes only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(state, indent=2))
        path.chmod(0o600)


def pool_of(name: str) -> str:
    """api-2 → api: the instances nginx balances over; other services are pools of one."""
    return re.sub(r"-[0-9]+$", "", name)


def interleave(names: list[str]) -> list[str]:
    """api-1, api-2, web-1, web-2, worker-x → api-1, web-1, worker-x, api-2, web-2: each
    pool's cooldown is spent restarting other pools."""
    pools: dict[str, list[str]] = {}
    for name in names:
        pools.setdefault(pool_of(name), []).append(name)
    rounds = max((len(members) for members in pools.values()), default=0)
    return [m[i] for i in range(rounds) for m in pools.values() if i < len(m)]

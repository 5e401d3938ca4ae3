"""One execution environment: a process of the Lambda Python runtime (awslambdaric) started
from a clean interpreter (`-S -P`: no site-packages, no working directory on the path) whose
import path is the function's unpacked package, its layers and the runtime's own packages,
polling the Runtime API served for it alone. It runs one invocation at a time; past the
function's timeout, or over its memorySize, it is killed, as Lambda replaces such a sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulator.execution.function import FunctionSpec, Result, failure
from emulator.execution.logsink import FunctionLog
from emulator.execution.runtime_api import Event, RuntimeApiServer
from shared.lambda_events.arns import REGION
from shared.logs import get_logger

log = get_logger("quarry.lambda")
MARK = "QUARRY_ENVIRONMENT "  # the bootstrap's one line about itself, kept out of the log
# What Lambda's bootstrap (/var/runtime/bootstrap.py) does, plus one line reporting the
# interpreter's import path, so what the environment runs from can be checked.
BOOTSTRAP = (
    "import json, sys\n"
    f"sys.stderr.write({MARK!r} + json.dumps({{'sys_path': sys.path, "
    "'executable': sys.executable}) + '\\n')\n"
    "sys.stderr.flush()\n"
    "from awslambdaric.__main__ import main\n"
    "main(['awslambdaric', sys.argv[1]])\n"
)
MEMORY_POLL_S = 0.1
INIT_DEADLINE_S = 60.0  # Lambda allows 10 s; a busy 2-core machine needs more


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return 0.0
    return 0.0


def exit_reason(code: int) -> str:
    """A process's end as Lambda words it: `signal: killed`, `exit status 1`."""
    if code < 0:
        return f"signal: {(signal.strsignal(-code) or str(-code)).lower()}"
    return f"exit status {code}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Environment:
    """One sandbox of one function. `start()` spawns it; `initialised` resolves to None once
    it first asks for an event, or to the Result of a failed initialisation."""

    def __init__(self, spec: FunctionSpec, number: int, logs: FunctionLog) -> None:
        self.spec = spec
        self.id = f"{spec.name}-{number}"
        self.logs = logs
        self.api = RuntimeApiServer(self)
        self.events: asyncio.Queue[Event] = asyncio.Queue(maxsize=1)
        self.pending: dict[str, asyncio.Future[Result]] = {}
        loop = asyncio.get_running_loop()
        self.initialised: asyncio.Future[Result | None] = loop.create_future()
        self.exited: asyncio.Future[int] = loop.create_future()
        self.process: asyncio.subprocess.Process | None = None
        self.sys_path: list[str] = []
        self.executable = ""
        self.started = time.monotonic()
        self.init_s: float | None = None
        self.invocations = 0
        self.peak_mb = 0.0
        self._tasks: list[asyncio.Task[None]] = []

    def environment(self, port: int) -> dict[str, str]:
        """The process's variables, as Lambda sets them (and nothing of this process's)."""
        spec = self.spec
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        return {
            **spec.variables,
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(spec.task),
            "LAMBDA_RUNTIME_DIR": str(spec.runtime_dir),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.qualified,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.qualified}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "PYTHONPATH": os.pathsep.join(map(str, spec.import_path())),
            "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only (even for root here)
            "PYTHONUNBUFFERED": "1",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
        }

    async def start(self) -> None:
        port = await self.api.start()
        self.started = time.monotonic()
        self.logs.write(f"INIT_START Runtime Version: {self.spec.runtime} Environment: {self.id}")
        self.process = await asyncio.create_subprocess_exec(
            str(self.spec.python),
            "-S",
            "-P",
            "-c",
            BOOTSTRAP,
            self.spec.handler,
            cwd=self.spec.task,
            env=self.environment(port),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._tasks = [
            asyncio.create_task(self._read_output()),
            asyncio.create_task(self._watch_exit()),
        ]

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0

    # -- the Runtime API side ---------------------------------------------------------------

    async def next_event(self) -> Event:
        if not self.initialised.done():
            self.init_s = time.monotonic() - self.started
            self.logs.write(f"INIT_REPORT Init Duration: {self.init_s * 1000:.2f} ms")
            self.initialised.set_result(None)
        return await self.events.get()

    def respond(self, request_id: str, body: bytes) -> bool:
        return self._settle(request_id, Result(body))

    def fail(self, request_id: str, error: dict[str, Any], error_type: str) -> bool:
        return self._settle(
            request_id, Result(json.dumps(error).encode(), error_type or "Unhandled")
        )

    def init_failed(self, error: dict[str, Any], error_type: str) -> None:
        result = Result(json.dumps(error).encode(), error_type or "Runtime.Unknown")
        message = str(error.get("errorMessage", ""))
        self.logs.write(f"INIT_REPORT Phase: init Status: error Error Type: {result.error_type}")
        self.logs.write(f"[ERROR] {result.error_type}: {message}")
        if not self.initialised.done():
            self.initialised.set_result(result)
        for request_id in list(self.pending):
            self._settle(request_id, result)

    def _settle(self, request_id: str, result: Result) -> bool:
        future = self.pending.pop(request_id, None)
        if future is None or future.done():
            return False
        future.set_result(result)
        return True

    # -- the service side -------------------------------------------------------------------

    async def invoke(self, body: bytes, request_id: str) -> Result:
        """Hand one event to the runtime and wait for its outcome, within the timeout and
        memorySize; a timed-out or oversized environment is killed (so not reused)."""
        timeout = self.spec.timeout
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        self.invocations += 1
        deadline_ms = int((time.time() + timeout) * 1000)
        self.logs.write(f"START RequestId: {request_id} Version: $LATEST")
        await self.events.put(Event(request_id, body, deadline_ms, self.spec.arn))
        watch = asyncio.create_task(self._watch_memory(request_id))
        try:
            async with asyncio.timeout(timeout):
                result = await asyncio.shield(future)
        except TimeoutError:
            message = f"Task timed out after {timeout:.2f} seconds"
            self.logs.write(f"{_now()} {request_id} {message}")
            self.pending.pop(request_id, None)
            await self.kill()
            result = failure("Sandbox.Timedout", f"RequestId: {request_id} Error: {message}")
        finally:
            watch.cancel()
        self.logs.write(f"END RequestId: {request_id}")
        return result

    async def _watch_memory(self, request_id: str) -> None:
        """Lambda's memorySize: over it, the sandbox is killed mid-invocation."""
        while self.alive:
            used = rss_mb(self.pid)
            self.peak_mb = max(self.peak_mb, used)
            if used > self.spec.memory:
                self.logs.write(
                    f"RequestId: {request_id} Error: Runtime exited with error: signal: killed "
                    f"(memory used {used:.0f} MB > memorySize {self.spec.memory} MB)"
                )
                await self.kill()
                return
            await asyncio.sleep(MEMORY_POLL_S)

    async def _read_output(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith(MARK):
                with contextlib.suppress(ValueError):
                    about = json.loads(line[len(MARK) :])
                    self.sys_path = [str(p) for p in about.get("sys_path", [])]
                    self.executable = str(about.get("executable", ""))
                continue
            self.logs.write(line)

    async def _watch_exit(self) -> None:
        assert self.process is not None
        code = await self.process.wait()
        reason = exit_reason(code)
        exited = failure("Runtime.ExitError", f"Runtime exited with error: {reason}")
        if not self.initialised.done():
            self.initialised.set_result(exited)
        for request_id in list(self.pending):
            self._settle(
                request_id,
                failure(
                    "Runtime.ExitError",
                    f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
                ),
            )
        if not self.exited.done():
            self.exited.set_result(code)
        await self.api.close()

    async def kill(self) -> None:
        """End the sandbox at once (SIGKILL to its process group)."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        if self.process is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self.exited), 10)
        await self.api.close()

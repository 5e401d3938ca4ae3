"""A function's execution environments: reused while warm, one invocation at a time each, a new
one (a cold start) only when none is free, at most `reservedConcurrency` of them (beyond it a
synchronous invocation is throttled, as Lambda's TooManyRequestsException), and a failed or
killed one replaced by the next cold start."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque

from emulator.execution.environment import INIT_DEADLINE_S, Environment
from emulator.execution.function import FunctionSpec, Result, failure
from emulator.execution.logsink import FunctionLog
from shared import metrics
from shared.logs import get_logger

log = get_logger("quarry.lambda")
UNRESERVED_CAP = 4  # environments of a function without reservedConcurrency, on this machine


class ThrottledError(Exception):
    """The function is at its reserved concurrency."""


class Pool:
    def __init__(self, spec: FunctionSpec, logs: FunctionLog, cap: int = UNRESERVED_CAP) -> None:
        self.spec = spec
        self.logs = logs
        self.reserved = spec.reserved
        self.cap = spec.reserved if spec.reserved is not None else cap
        self.environments: list[Environment] = []
        self.idle: deque[Environment] = deque()
        self.freed = asyncio.Condition()
        self.started = 0
        self.init_error: Result | None = None  # the last initialisation that failed

    async def _spawn(self) -> Environment:
        self.started += 1
        env = Environment(self.spec, self.started, self.logs)
        self.environments.append(env)
        metrics.COLD_STARTS.labels(self.spec.name).inc()
        await env.start()
        return env

    async def _initialise(self, env: Environment) -> Result | None:
        """Wait for `env` to finish its init phase; its failure, or None."""
        try:
            outcome = await asyncio.wait_for(asyncio.shield(env.initialised), INIT_DEADLINE_S)
        except TimeoutError:
            await env.kill()
            outcome = failure(
                "Runtime.InitTimeout", f"init did not finish within {INIT_DEADLINE_S:.0f} s"
            )
        if outcome is None:
            metrics.INIT.labels(self.spec.name).observe(env.init_s or 0.0)
            self.init_error = None
        else:
            self.init_error = outcome
            await self._drop(env)
        return outcome

    async def prewarm(self) -> Result | None:
        """Start one environment now and keep it warm; the failure of its init, or None."""
        env = await self._spawn()
        outcome = await self._initialise(env)
        if outcome is None:
            await self._release(env)
        return outcome

    async def _acquire(self) -> Environment:
        async with self.freed:
            while True:
                while self.idle:
                    env = self.idle.popleft()
                    if env.alive:
                        return env
                    self._forget(env)
                if len(self.environments) < self.cap:
                    break
                if self.reserved is not None:
                    raise ThrottledError(self.spec.name)
                await self.freed.wait()
        env = await self._spawn()
        return env

    def _forget(self, env: Environment) -> None:
        if env in self.environments:
            self.environments.remove(env)

    async def _drop(self, env: Environment) -> None:
        await env.kill()
        async with self.freed:
            self._forget(env)
            self.freed.notify()

    async def _release(self, env: Environment) -> None:
        async with self.freed:
            if env.alive:
                self.idle.append(env)
            else:
                self._forget(env)
            self.freed.notify()

    async def invoke(self, body: bytes, trigger: str, request_id: str | None = None) -> Result:
        """One invocation through a free (or new) environment; ThrottledError beyond the
        reserved concurrency. Errors of the function are results, never exceptions."""
        name = self.spec.name
        request_id = request_id or str(uuid.uuid4())
        try:
            env = await self._acquire()
        except ThrottledError:
            metrics.THROTTLES.labels(name).inc()
            raise
        metrics.CONCURRENT.labels(name).inc()
        began = time.perf_counter()
        try:
            failed_init = (
                None
                if env.initialised.done() and env.initialised.result() is None
                else (await self._initialise(env))
            )
            result = failed_init or await env.invoke(body, request_id)
        finally:
            metrics.CONCURRENT.labels(name).dec()
            await self._release(env)
        outcome = "success" if result.error_type is None else "error"
        if result.error_type == "Sandbox.Timedout":
            outcome = "timeout"
            metrics.TIMEOUTS.labels(name).inc()
        metrics.INVOCATIONS.labels(name, trigger, outcome).inc()
        metrics.DURATION.labels(name, trigger).observe(time.perf_counter() - began)
        return result

    async def stop(self) -> None:
        await asyncio.gather(*(env.kill() for env in list(self.environments)))
        self.environments.clear()
        self.idle.clear()

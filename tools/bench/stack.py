"""The stack benchmarks: HTTP through nginx → N gateway instances against bare uvicorn with N
workers (N = 1, 2), and stage dispatch latency through Redis Streams against raw taskiq-redis.
Every process runs from a temporary folder and is stopped on the way out, whatever happens.
`quarry bench stack` runs STACK; the registry adds it to `quarry bench all`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, Any

from taskiq import AsyncBroker
from taskiq.receiver import Receiver
from taskiq_redis import RedisStreamBroker

from emulator.stack.services.nginx import NginxPlan, NginxServer
from emulator.stack.services.ports import free_port
from emulator.stack.services.redis import RedisServer
from shared.dispatch.redis import RedisDispatcher, stage_broker
from tools.bench import load
from tools.bench.load import BenchError, measure, percentile
from tools.bench.report import BenchFn, Benchmark, BenchOptions, Measurement, to_benchmark

ROOT = Path(__file__).resolve().parent.parent.parent
PATH = "/bench/ping"
STAGE = "bench"
DISPATCH_CONCURRENCY = 4  # messages in flight at once, as from a few API instances
DISPATCH_TIMEOUT_S = 10.0
STOP_S = 5.0
Process = asyncio.subprocess.Process
Send = Callable[[int, float], Awaitable[None]]
Arrived = Callable[[int, float], None]
Setup = Callable[[str, Arrived], tuple[AsyncBroker, AsyncBroker, Send]]


class Procs:
    """Child processes, each in its own session and logging to its own file."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[Process, int]] = []
        self.outputs: dict[str, IO[bytes]] = {}

    async def spawn(
        self, name: str, argv: list[str], stop: int = signal.SIGTERM, fds: tuple[int, ...] = ()
    ) -> Process:
        log = self.outputs[name] = (self.logs / f"{name}.log").open("w+b")
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            pass_fds=fds,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
        self.running.append((proc, stop))
        return proc

    async def http_ready(self, name: str, proc: Process, port: int) -> None:
        try:
            await load._ready(proc, name, port, PATH)
        except BenchError as exc:
            tail = load._tail(self.outputs[name])
            raise BenchError(f"{exc.detail}; its output: {tail}") from None


@contextlib.asynccontextmanager
async def processes() -> AsyncIterator[tuple[Procs, Path]]:
    """A temporary folder and the processes started in it, all stopped on the way out."""
    with tempfile.TemporaryDirectory(prefix="quarry-bench-") as tmp:
        os.chmod(tmp, 0o711)  # nginx's workers run as nobody when we are root
        os.mkdir(os.path.join(tmp, "static"))
        procs = Procs(Path(tmp))
        try:
            yield procs, procs.logs
        finally:
            await asyncio.gather(*(_stop(proc, sig) for proc, sig in reversed(procs.running)))
            for log in procs.outputs.values():
                log.close()


async def _stop(proc: Process, sig: int) -> None:
    """The stop signal, then SIGKILL to the whole session (so no worker outlives its master)."""
    try:
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            proc.send_signal(sig)
            await asyncio.wait_for(proc.wait(), STOP_S)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


async def _serve(procs: Procs, name: str, variant: str, socks: list[socket.socket]) -> list[int]:
    """One `tools.bench.serve VARIANT` process per socket (processes handed the same socket
    accept from it in turn); returns their ports once each answers. Closes the sockets."""
    ports = [int(sock.getsockname()[1]) for sock in socks]
    started: list[tuple[str, Process, int]] = []
    try:
        for i, (sock, port) in enumerate(zip(socks, ports, strict=True), 1):
            argv = [sys.executable, "-m", "tools.bench.serve", variant, str(sock.fileno())]
            proc = await procs.spawn(f"{name}-{i}", argv, fds=(sock.fileno(),))
            started.append((f"{name}-{i}", proc, port))
    finally:
        for sock in socks:
            sock.close()  # the children hold their own copies
    await asyncio.gather(*(procs.http_ready(*s) for s in started))
    return ports


async def _nginx_over_gateways(procs: Procs, state: Path, n: int) -> int:
    """N gateway processes (the Gateway on the Lambda-event path, as the stack's API instances
    run it) behind nginx; returns nginx's port once it answers through them."""
    socks = [socket.create_server((load.HOST, 0), backlog=1024) for _ in range(n)]
    ports = await _serve(procs, "api", "event", socks)
    # /bench/ping is not under /api/, so both upstreams are the same instances: the request
    # takes nginx's `location /`, with the same limits, proxying and keep-alive as /api/.
    plan = NginxPlan(
        port=free_port(), api=ports, web=ports, static_dir=state / "static", rate="1000000r/s"
    )
    nginx = NginxServer(state / "nginx", plan)
    await asyncio.to_thread(nginx.prepare)
    proc = await procs.spawn("nginx", nginx.argv(), stop=nginx.stop_signal)
    await procs.http_ready("nginx", proc, plan.port)
    return plan.port


async def _uvicorn(procs: Procs, n: int) -> int:
    """N uvicorn processes accepting from one shared socket: what `uvicorn --workers N` does,
    without its loss of TCP_NODELAY on that path (Kludex/uvicorn#3149), which adds a delayed
    ACK (~40 ms) to every keep-alive request and would flatter every ratio."""
    sock = socket.create_server((load.HOST, 0), backlog=1024)
    return (await _serve(procs, "uvicorn", "baseline", [sock] * n))[0]


def _http(n: int) -> BenchFn:
    baseline = f"uvicorn-workers-{n}"
    description = (
        f"`GET {PATH}` through nginx (the stack's generated config; access log on, rate limit "
        f"raised out of the way) to {n} gateway process(es) serving the trivial function on "
        f"the Lambda-event path (`nginx-api-x{n}`), against a plain FastAPI app on {n} bare "
        f"uvicorn process(es) sharing one socket, as `uvicorn --workers {n}` (`{baseline}`)."
    )

    async def bench(options: BenchOptions) -> Benchmark:
        async with processes() as (procs, state):
            port = await _nginx_over_gateways(procs, state, n)
            proxied = await measure(f"nginx-api-x{n}", port, PATH, options)
        async with processes() as (procs, _):
            bare = await measure(baseline, await _uvicorn(procs, n), PATH, options)
        return to_benchmark(f"stack-http-x{n}", description, baseline, [proxied, bare])

    return bench


class Arrivals(dict[int, "asyncio.Future[float]"]):
    """Messages sent and not yet started: the handler resolves each with its latency."""

    def arrived(self, token: int, sent: float) -> None:
        future = self.pop(token, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter() - sent)


async def _drive(
    send: Send, arrivals: Arrivals, total: int, on_done: Callable[[], None]
) -> tuple[list[float], float]:
    """Send `total` messages, DISPATCH_CONCURRENCY at a time, each after the last one's start."""
    latencies: list[float] = []
    tokens = itertools.count()
    remaining = total

    async def sender() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            token = next(tokens)
            future = arrivals[token] = asyncio.get_running_loop().create_future()
            await send(token, time.perf_counter())
            try:
                latencies.append(await asyncio.wait_for(future, DISPATCH_TIMEOUT_S))
            except TimeoutError:
                raise BenchError(f"a message took over {DISPATCH_TIMEOUT_S} s to start") from None
            on_done()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(DISPATCH_CONCURRENCY)))
    return latencies, time.perf_counter() - started


async def _dispatch(name: str, setup: Setup, url: str, options: BenchOptions) -> Measurement:
    """Listen with a Taskiq Receiver in this process, warm up, then time the messages."""
    arrivals = Arrivals()
    listener, sender, send = setup(url, arrivals.arrived)
    await asyncio.gather(sender.startup(), listener.startup())
    receiver = Receiver(listener, max_async_tasks=8, propagate_exceptions=False, run_startup=False)
    finish = asyncio.Event()
    listening = asyncio.create_task(receiver.listen(finish))
    try:
        await _drive(send, arrivals, max(10, options.warmup // 5), lambda: None)
        total = max(50, options.requests // 4)
        options.meter.start(name, total)
        latencies, elapsed = await _drive(send, arrivals, total, options.meter.advance)
    finally:
        await asyncio.sleep(0.05)  # let it go back to waiting in XREADGROUP, then stop it
        finish.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(listening), STOP_S)
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await listener.shutdown()
        await sender.shutdown()
    latencies.sort()
    return Measurement(
        name=name,
        requests=len(latencies),
        concurrency=DISPATCH_CONCURRENCY,
        rps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
    )


def _quarry(url: str, arrived: Arrived) -> tuple[AsyncBroker, AsyncBroker, Send]:
    """`RedisDispatcher.send` (an SQS-shaped record) → a stage's stream → `stage_broker`."""

    async def handler(record: dict[str, Any]) -> None:
        body = json.loads(record["body"])
        arrived(body["token"], body["sent"])

    listener = stage_broker(url, STAGE, consumer="bench-1", idle_ms=86_400_000)
    listener.register_task(handler, task_name=STAGE)
    dispatcher = RedisDispatcher(url, [STAGE])

    async def send(token: int, sent: float) -> None:
        await dispatcher.send(STAGE, [{"token": token, "sent": sent}])

    return listener, dispatcher.broker, send


def _raw(url: str, arrived: Arrived) -> tuple[AsyncBroker, AsyncBroker, Send]:
    """taskiq-redis alone: a `RedisStreamBroker` kicks, another listens; no Quarry code."""

    async def handler(token: int, sent: float) -> None:
        arrived(token, sent)

    listener = RedisStreamBroker(url, queue_name="bench:raw")
    listener.register_task(handler, task_name="raw")
    sender = RedisStreamBroker(url, queue_name="bench:raw")
    task = sender.register_task(handler, task_name="raw")

    async def send(token: int, sent: float) -> None:
        await task.kiq(token, sent)

    return listener, sender, send


async def bench_dispatch(options: BenchOptions) -> Benchmark:
    async with processes() as (procs, state):
        server = RedisServer(state / "redis-queue", free_port(), "queue")
        await asyncio.to_thread(server.prepare)
        proc = await procs.spawn("redis-queue", server.argv(), stop=server.stop_signal)
        deadline = time.monotonic() + load.READY_DEADLINE_S
        while not await server.ready():
            if proc.returncode is not None or time.monotonic() > deadline:
                log = load._tail(procs.outputs["redis-queue"])
                raise BenchError(f"the queue's redis-server did not start: {log}")
            await asyncio.sleep(0.05)
        measured = [
            await _dispatch("quarry-dispatch", _quarry, server.url, options),
            await _dispatch("taskiq-redis", _raw, server.url, options),
        ]
    description = (
        "Stage dispatch, enqueue → handler start, through a queue Redis (noeviction, AOF "
        "everysec): `RedisDispatcher.send` read by a `stage_broker` consumer under a Taskiq "
        "`Receiver` (`quarry-dispatch`), against a raw taskiq-redis `RedisStreamBroker` kick + "
        f"listen (`taskiq-redis`). {DISPATCH_CONCURRENCY} messages in flight, each sent when "
        "one before it has started; p50/p99 are their latencies."
    )
    return to_benchmark("stack-dispatch", description, "taskiq-redis", measured, unit="msgs/s")


STACK: dict[str, BenchFn] = {
    "stack-http-x1": _http(1),
    "stack-http-x2": _http(2),
    "stack-dispatch": bench_dispatch,
}

"""Load generation: a server in its own process, driven over raw keep-alive HTTP/1.1.

The client is a few lines of asyncio streams rather than httpx: on a small machine the load
generator shares the CPUs with the server, and httpx's per-request cost would cap every
variant at the client's speed and flatten the ratios.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import IO

from shared.errors import QuarryError
from tools.bench.report import BenchOptions, Measurement

HOST = "127.0.0.1"
REQUEST_TIMEOUT_S = 10.0
# Generous: a benchmark server starting on a loaded machine (a shared CI box) is slow, not
# broken; the wait ends as soon as it answers.
READY_DEADLINE_S = 120.0


class BenchError(QuarryError):
    title = "Benchmark failed"
    slug = "bench"


class Connection:
    """One keep-alive HTTP/1.1 connection sending ready-made requests (the same GET over and
    over, or the stack load's mix); responses are framed by Content-Length or chunked."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def get(self, raw: bytes) -> int:
        """Send one request and read the whole response; returns its status code."""
        self.writer.write(raw)
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            head = await self.reader.readuntil(b"\r\n\r\n")
            length: int | None = None
            chunked = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
            if chunked:
                await self._read_chunks()
            elif length is None:
                raise BenchError("the server answered without Content-Length; cannot frame it")
            else:
                await self.reader.readexactly(length)
        return int(head[9:12])

    async def _read_chunks(self) -> None:
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:  # then any trailers, up to a blank line
                while await self.reader.readuntil(b"\r\n") != b"\r\n":
                    pass
                return
            await self.reader.readexactly(size + 2)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):  # the server may have gone first
            await self.writer.wait_closed()


def request_bytes(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()


async def _run(
    conns: list[Connection], raw: bytes, total: int, on_done: Callable[[], None]
) -> tuple[list[float], float]:
    latencies: list[float] = []
    remaining = total

    async def worker(conn: Connection) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            start = time.perf_counter()
            status = await conn.get(raw)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                raise BenchError(f"the server answered {status}, not 200; nothing to measure")
            on_done()

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    return latencies, time.perf_counter() - started


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..1)."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


async def measure(name: str, port: int, path: str, options: BenchOptions) -> Measurement:
    """Warm up, then send `options.requests` GETs at fixed concurrency, timing each one."""
    raw = request_bytes(port, path)
    conns = [await Connection.open(port) for _ in range(options.concurrency)]
    try:
        await _run(conns, raw, options.warmup, lambda: None)
        options.meter.start(name, options.requests)
        latencies, elapsed = await _run(conns, raw, options.requests, options.meter.advance)
    finally:
        for conn in conns:
            await conn.close()
    latencies.sort()
    return Measurement(
        name=name,
        requests=len(latencies),
        concurrency=options.concurrency,
        rps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
    )


def _tail(log: IO[bytes], limit: int = 2000) -> str:
    log.seek(0)
    text = log.read().decode(errors="replace").strip()
    return text[-limit:] or "(no output)"


async def _ready(proc: asyncio.subprocess.Process, what: str, port: int, path: str) -> None:
    raw = request_bytes(port, path)
    deadline = time.monotonic() + READY_DEADLINE_S
    last = "no answer yet"
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise BenchError(f"{what} exited with code {proc.returncode} before serving")
        try:
            conn = await Connection.open(port)
            try:
                status = await conn.get(raw)
            finally:
                await conn.close()
            if status == 200:
                return
            last = f"answered {status}"
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        await asyncio.sleep(0.05)
    raise BenchError(
        f"timed out after {READY_DEADLINE_S:.0f}s waiting for {what} to answer "
        f"GET {path} with 200 on {HOST}:{port}; last: {last}"
    )


@asynccontextmanager
async def served(variant: str, path: str) -> AsyncIterator[int]:
    """Run `tools.bench.serve VARIANT` in a subprocess on a free port; yield the port.

    The port is bound here and the listening socket handed to the child, so there is no
    window in which another process could take it.
    """
    what = f"the {variant!r} benchmark server"
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    listener.listen(1024)
    port = int(listener.getsockname()[1])
    fd = listener.fileno()
    with tempfile.TemporaryFile() as log, listener:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tools.bench.serve",
            variant,
            str(fd),
            pass_fds=(fd,),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        listener.close()  # the child holds its own copy; only it accepts
        try:
            try:
                await _ready(proc, what, port, path)
            except BenchError as exc:
                raise BenchError(f"{exc.detail}; its output: {_tail(log)}") from None
            yield port
        finally:
            await _stop(proc)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM (uvicorn shuts down cleanly), then SIGKILL if it has not gone in 5 s."""
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 5.0)
    except TimeoutError:
        proc.kill()
        await proc.wait()
    finally:
        if proc.returncode is None:  # the wait itself was cancelled (Ctrl-C)
            proc.kill()

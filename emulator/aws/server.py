"""A local AWS emulator for SQS (and SSM): LocalStack when one answers on its edge port,
else moto's server, in this process (tests) or as a `moto_server` process (the stack)."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

from emulator.stack.services.ports import free_port

LOCALSTACK = "127.0.0.1:4566"


def localstack_running(endpoint: str = LOCALSTACK) -> bool:
    """LocalStack's health endpoint answers and reports SQS available or running."""
    try:
        reply = httpx.get(f"http://{endpoint}/_localstack/health", timeout=0.5, trust_env=False)
    except httpx.HTTPError:
        return False
    if reply.status_code != 200:
        return False
    state = reply.json().get("services", {}).get("sqs")
    return state in ("available", "running")


@contextlib.contextmanager
def local_aws(prefer_localstack: bool = True) -> Iterator[str]:
    """`host:port` of a local AWS emulator for the block: a running LocalStack, or moto's
    threaded server on a free loopback port, stopped when the block ends."""
    if prefer_localstack and localstack_running():
        yield LOCALSTACK
        return
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop()


def moto_server_argv(port: int) -> list[str]:
    """The command line of moto's server as a separate process on loopback `port`."""
    binary = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if binary is None:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return [binary, "-H", "127.0.0.1", "-p", str(port)]

"""Head to head with serverless-offline: the same Mangum-wrapped FastAPI handler served by
serverless-offline (Serverless Framework v3, from npm) and by Quarry's gateway, at the same
concurrency, over the same keep-alive client."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from emulator.stack.services.ports import free_port
from tools.bench.load import HOST, BenchError, _ready, _stop, _tail, measure, served
from tools.bench.report import Benchmark, BenchOptions, Measurement, to_benchmark

ROOT = Path(__file__).resolve().parents[2]
# The committed package.json and lock pin the peer; `npm ci` installs it in the cache folder.
PINNED = ROOT / "infra/bench-offline"
CACHE = ROOT / ".quarry/cache/serverless-offline"
PATH = "/bench/ping"
BASELINE = "serverless-offline"
VARIANT = "quarry-gateway"
INSTALL_TIMEOUT_S = 600
DESCRIPTION = (
    f"`GET {PATH}` answered by the Mangum-wrapped FastAPI handler `tools/bench/trivial.py`, "
    f"served by serverless-offline 13 on the Serverless Framework 3 (`{BASELINE}`, installed "
    f"from npm into `.quarry/cache/`) and by Quarry's gateway with the same API Gateway v2 "
    f"event (`{VARIANT}`), at the same concurrency over the same keep-alive client."
)
SERVICE = """\
service: quarry-bench-offline
frameworkVersion: "3"
provider:
  name: aws
  runtime: python3.11
  region: us-east-1
plugins:
  - serverless-offline
functions:
  trivial:
    handler: tools/bench/trivial.handler
    events:
      - httpApi: "GET /bench/ping"
"""


def install(cache: Path = CACHE) -> Path:
    """`npm ci` the pinned serverless + serverless-offline into `cache` unless the same lock
    is already installed there; returns the folder. Fails clearly without Node.js and npm."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        raise BenchError(
            "the serverless-offline benchmark needs Node.js and npm on PATH "
            "(Debian: apt-get install nodejs npm); it does not skip without them"
        )
    lock = (PINNED / "package-lock.json").read_bytes()
    stamp = cache / ".lock-sha256"
    digest = hashlib.sha256(lock).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and (cache / "node_modules").is_dir():
        return cache
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PINNED / name, cache / name)
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=cache,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"npm ci of serverless-offline failed: {done.stderr.strip()[-1500:]}")
    stamp.write_text(digest)
    return cache


@asynccontextmanager
async def offline(cache: Path) -> AsyncIterator[int]:
    """serverless-offline serving the trivial handler; yields its HTTP port."""
    for package in ("emulator", "shared"):  # the handler's code, as the service folder sees it
        link = cache / package
        if not link.is_symlink():
            link.symlink_to(ROOT / package, target_is_directory=True)
    (cache / "serverless.yml").write_text(SERVICE)
    port, lambda_port = free_port(), free_port()
    venv_bin = str(Path(sys.executable).parent)  # python3 there runs the handler
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "SLS_TELEMETRY_DISABLED": "1",
        "SLS_NOTIFICATIONS_MODE": "off",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        "node",
        "node_modules/serverless/bin/serverless.js",
        "offline",
        "start",
        "--host",
        HOST,
        "--httpPort",
        str(port),
        "--lambdaPort",
        str(lambda_port),
        "--noPrependStageInUrl",
    ]
    with tempfile.TemporaryFile() as log:
        proc = await asyncio.create_subprocess_exec(
            *command, cwd=cache, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            try:
                await _ready(proc, "serverless-offline", port, PATH)
            except BenchError as exc:
                raise BenchError(f"{exc.detail}; its output: {_tail(log)}") from None
            yield port
        finally:
            await _stop(proc)


async def bench_offline(options: BenchOptions) -> Benchmark:
    cache = await asyncio.to_thread(install)
    measured: list[Measurement] = []
    async with offline(cache) as port:
        measured.append(await measure(BASELINE, port, PATH, options))
    async with served("event", PATH) as port:
        measured.append(await measure(VARIANT, port, PATH, options))
    return to_benchmark("serverless-offline", DESCRIPTION, BASELINE, measured)

"""`quarry bench serverless-offline`: serverless-offline from npm and Quarry's gateway serve the
same handler, and the report sets one against the other."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from tools.bench.load import Connection, request_bytes
from tools.bench.offline import BASELINE, PATH, VARIANT, install, offline

pytestmark = pytest.mark.stack  # real nginx, Redis and Node.js processes

QUARRY = Path(sys.executable).with_name("quarry")


def test_bench_offline_serves_the_same_answer_as_quarry() -> None:
    async def ask() -> tuple[int, bytes]:
        async with offline(install()) as port:
            conn = await Connection.open(port)
            try:
                conn.writer.write(request_bytes(port, PATH))
                head = await conn.reader.readuntil(b"\r\n\r\n")
                body = await conn.reader.readexactly(11)
            finally:
                await conn.close()
            return int(head[9:12]), body

    assert asyncio.run(ask()) == (200, b'{"ok":true}')


def test_bench_offline_prints_both_and_the_ratio() -> None:
    done = subprocess.run(
        [str(QUARRY), "bench", "serverless-offline", "--requests", "200", "--concurrency", "2"],
        capture_output=True,
        text=True,
        timeout=900,  # 200 requests each way; generous for a loaded machine
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{VARIANT}: " in done.stdout
    assert f"· {BASELINE}: " in done.stdout
    assert "throughput ratio" in done.stdout

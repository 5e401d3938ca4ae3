"""A process of its own over its memorySize exits the way Lambda reports it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TASK = """
import asyncio, logging, sys
from shared.handlers.memory import limited

async def task(record: dict) -> None:
    print("ran", record["n"], flush=True)

logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
asyncio.run(limited(task, int(sys.argv[1]))({"n": 1}))
print("survived", flush=True)
"""


def run(memory_size_mb: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", TASK, str(memory_size_mb)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_over_memory_size_exits_after_the_task() -> None:
    done = run(1)
    assert done.returncode == 137
    assert done.stdout == "ran 1\n"
    assert "Runtime exited: out of memory: max memory used " in done.stderr
    assert "MB > memorySize 1 MB" in done.stderr


def test_within_memory_size_carries_on() -> None:
    done = run(10240)
    assert (done.returncode, done.stdout) == (0, "ran 1\nsurvived\n")

"""`quarry down` waits for the supervisor to exit: an exited supervisor that its parent has not
reaped yet (a zombie) has exited, or `quarry down` would wait out its whole deadline."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from emulator.stack.commands import _alive


def test_stack_alive_counts_a_zombie_as_exited() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{child.pid}/stat")
    deadline = time.monotonic() + 10
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":  # exited, not reaped
        assert time.monotonic() < deadline, "the child never exited"
        time.sleep(0.01)
    try:
        assert _alive(child.pid) is False
    finally:
        child.wait()
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert _alive(running.pid) is True
    finally:
        running.kill()
        running.wait()
    assert _alive(None) is False

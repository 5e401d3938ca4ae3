"""A function's log, as Lambda sends it to CloudWatch: what its environments print, and the
platform's START, END, INIT and error lines, in `lambda-<function>.log` of the stack's logs."""

from __future__ import annotations

import threading
from pathlib import Path


class FunctionLog:
    """Appends whole lines to one file (one writer: the service process)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8", buffering=1)

    def write(self, line: str) -> None:
        with self._lock:
            self._file.write(line + "\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()

"""JSON-lines logging that carries the request id and function name of the current invocation."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
function_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)


class LogBytes:
    """Bytes of the log lines written during one invocation (CloudWatch bills ingestion)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


log_bytes_var: contextvars.ContextVar[LogBytes | None] = contextvars.ContextVar(
    "log_bytes", default=None
)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, function, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "function": function_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        line = json.dumps(entry, default=str, ensure_ascii=False)
        meter = log_bytes_var.get()
        if meter is not None:
            meter.count += len(line.encode()) + 1  # and its newline
        return line


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Route the root logger to JSON lines on stream (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx", "aiosqlite", "trafilatura", "htmldate", "taskiq"):
        logging.getLogger(noisy).setLevel("WARNING")


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)

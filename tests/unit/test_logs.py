"""JSON log lines: one object per record, carrying the invocation's request id and function."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from shared.logs import JsonFormatter, function_var, request_id_var


@contextmanager
def json_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger outside the logging tree (nothing propagates to root) writing JSON to memory."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.Logger("quarry.test", level=logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield logger, stream
    finally:
        handler.close()


@contextmanager
def invocation_of(function: str, request_id: str) -> Iterator[None]:
    rid, fn = request_id_var.set(request_id), function_var.set(function)
    try:
        yield
    finally:
        request_id_var.reset(rid)
        function_var.reset(fn)


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = stream.getvalue().splitlines()
    parsed = [json.loads(line) for line in lines]
    for entry in parsed:
        assert datetime.fromisoformat(entry.pop("time")).utcoffset() is not None
    return parsed


def test_logs_one_json_line_per_record_with_invocation_context() -> None:
    with json_logger() as (log, stream):
        log.info("before")
        with invocation_of("extraction", "req-123"):
            log.warning("fetched %d pages from %s", 3, "sites.test")
            log.debug("déjà vu")
        log.info("after")

    assert entries(stream) == [
        {
            "level": "INFO",
            "logger": "quarry.test",
            "message": "before",
            "request_id": None,
            "function": None,
        },
        {
            "level": "WARNING",
            "logger": "quarry.test",
            "message": "fetched 3 pages from sites.test",
            "request_id": "req-123",
            "function": "extraction",
        },
        {
            "level": "DEBUG",
            "logger": "quarry.test",
            "message": "déjà vu",
            "request_id": "req-123",
            "function": "extraction",
        },
        {
            "level": "INFO",
            "logger": "quarry.test",
            "message": "after",
            "request_id": None,
            "function": None,
        },
    ]


def test_logs_include_extras() -> None:
    with json_logger() as (log, stream), invocation_of("runs", "req-9"):
        log.info(
            "REPORT",
            extra={"duration_ms": 12.5, "cold_start": True, "trigger": "http", "tags": ("a", "b")},
        )
        log.info("odd", extra={"when": datetime(2026, 1, 2, 3, 4, 5)})

    assert entries(stream) == [
        {
            "level": "INFO",
            "logger": "quarry.test",
            "message": "REPORT",
            "request_id": "req-9",
            "function": "runs",
            "duration_ms": 12.5,
            "cold_start": True,
            "trigger": "http",
            "tags": ["a", "b"],
        },
        {
            "level": "INFO",
            "logger": "quarry.test",
            "message": "odd",
            "request_id": "req-9",
            "function": "runs",
            "when": "2026-01-02 03:04:05",
        },
    ]


def test_logs_include_exception_type_and_traceback() -> None:
    with json_logger() as (log, stream), invocation_of("discovery", "req-7"):
        try:
            raise LookupError("no sitemap at https://sites.test/sitemap.xml")
        except LookupError:
            log.exception("discovery failed")

    [entry] = entries(stream)
    traceback = entry.pop("traceback")
    assert entry == {
        "level": "ERROR",
        "logger": "quarry.test",
        "message": "discovery failed",
        "request_id": "req-7",
        "function": "discovery",
        "error": "LookupError",
    }
    assert traceback.startswith("Traceback (most recent call last):")
    assert traceback.endswith("LookupError: no sitemap at https://sites.test/sitemap.xml")

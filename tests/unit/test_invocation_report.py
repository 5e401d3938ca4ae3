"""The invocation wrapper's REPORT line: Lambda's text, and the same figures as JSON fields."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from shared.handlers.invocation import declare_memory, invocation, report_message
from shared.logs import JsonFormatter

LAMBDA_REPORT = re.compile(
    r"^REPORT RequestId: (\S+) Duration: (\d+\.\d\d) ms Billed Duration: (\d+) ms"
    r"( Memory Size: (\d+) MB)? Max Memory Used: (\d+) MB$"
)


@contextmanager
def reports() -> Iterator[list[dict[str, Any]]]:
    """The JSON records the wrapper logs while the block runs (a handler on a StringIO)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("quarry.invocation")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    found: list[dict[str, Any]] = []
    try:
        yield found
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        handler.close()
        found += [json.loads(line) for line in stream.getvalue().splitlines()]


def test_report_message_reads_like_lambdas() -> None:
    assert report_message("req-1", 12.34, 13, 512, 87) == (
        "REPORT RequestId: req-1 Duration: 12.34 ms Billed Duration: 13 ms "
        "Memory Size: 512 MB Max Memory Used: 87 MB"
    )
    assert report_message("req-2", 0.5, 1, None, 40) == (
        "REPORT RequestId: req-2 Duration: 0.50 ms Billed Duration: 1 ms Max Memory Used: 40 MB"
    )


def test_invocation_reports_memory_and_billed_duration() -> None:
    with reports() as found, invocation("report-sized", "http", "req-42", memory_size_mb=256):
        pass
    (entry,) = found
    match = LAMBDA_REPORT.match(entry["message"])
    assert match is not None, entry["message"]
    assert match.group(1) == "req-42"
    assert float(match.group(2)) == entry["duration_ms"]
    assert int(match.group(3)) == entry["billed_duration_ms"]
    assert int(match.group(5)) == entry["memory_size_mb"] == 256
    assert int(match.group(6)) == entry["max_memory_used_mb"]
    assert entry["max_memory_used_mb"] > 0
    assert entry["billed_duration_ms"] >= max(1, entry["duration_ms"])
    assert entry["billed_duration_ms"] - entry["duration_ms"] < 1.01
    assert (entry["function"], entry["request_id"]) == ("report-sized", "req-42")
    assert (entry["trigger"], entry["outcome"], entry["cold_start"]) == ("http", "success", True)


def test_invocation_report_uses_the_declared_memory_size() -> None:
    declare_memory("report-declared", 1024)
    with reports() as found, invocation("report-declared", "sqs", "m-1"):
        pass
    with reports() as unknown, invocation("report-undeclared", "sqs", "m-2"):
        pass
    assert found[0]["memory_size_mb"] == 1024
    assert "Memory Size: 1024 MB" in found[0]["message"]
    assert unknown[0]["memory_size_mb"] is None
    assert "Memory Size" not in unknown[0]["message"]


def test_invocation_report_counts_an_error() -> None:
    with (
        reports() as found,
        pytest.raises(RuntimeError),
        invocation("report-error", "sqs", "m-3", memory_size_mb=512),
    ):
        raise RuntimeError("boom")
    assert found[0]["outcome"] == "error"
    assert found[0]["message"].startswith("REPORT RequestId: m-3 ")

"""What the invocation wrapper records for the ledger: billed duration and memory, requests by
kind, log bytes, and the runs an invocation worked for, split by record."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from shared.handlers.invocation import declare_memory, invocation
from shared.logs import JsonFormatter
from shared.metering.ledger import LEDGER, Ledger, Record, bucket_of


def recorded(function: str) -> Record:
    """The ledger's record of `function`'s invocation (others' records are put aside)."""
    found = [r for r in LEDGER.take() if r.function == function]
    assert len(found) == 1, found
    return found[0]


@contextmanager
def logged() -> Iterator[io.StringIO]:
    """JSON log lines of `quarry.*` written to a buffer while the block runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("quarry")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def test_metering_an_sqs_batch_of_two_runs_splits_by_record() -> None:
    declare_memory("meter-batch", 1024, "arm64")
    with invocation("meter-batch", "sqs", "req-b") as inv:
        for run_id in ("run-a", "run-a", "run-b", "run-a"):
            inv.received_sqs(300)
            inv.for_run(run_id)
        inv.sent_sqs([200, 200])  # one send of two messages
    rec = recorded("meter-batch")
    assert dict(rec.runs) == {"run-a": 0.75, "run-b": 0.25}
    assert (rec.memory_mb, rec.architecture, rec.http_requests) == (1024, "arm64", 0)
    assert rec.sqs_requests == 1 + 1 + 1  # the send, the batch's receive, its delete
    assert rec.billed_ms >= 1
    assert rec.billed_ms >= rec.duration_ms
    usage = rec.usage
    assert (usage.invocations, usage.lambda_requests, usage.mb_ms) == (
        1,
        1,
        rec.billed_ms * 1024,
    )
    share = usage.scaled(0.25)
    assert (share.invocations, share.billed_ms) == (0.25, rec.billed_ms / 4)


def test_metering_an_http_invocation_counts_one_api_request_and_its_log_bytes() -> None:
    declare_memory("meter-http", 256)
    with logged() as stream, invocation("meter-http", "http", "req-h"):
        logging.getLogger("quarry.test").info("handled", extra={"detail": "ünïcode"})
    rec = recorded("meter-http")
    assert (rec.http_requests, rec.sqs_requests, rec.runs, rec.outcome) == (1, 0, (), "success")
    assert rec.request_id == "req-h"
    written = stream.getvalue().encode()
    assert written.count(b"\n") == 2  # the handler's line and the REPORT line
    assert rec.log_bytes == len(written)


def test_metering_records_failed_invocations_too() -> None:
    with pytest.raises(RuntimeError), invocation("meter-fail", "sqs", "req-f"):
        raise RuntimeError("boom")
    rec = recorded("meter-fail")
    assert (rec.outcome, rec.memory_mb) == ("error", 0)  # memorySize never declared


def test_ledger_buffer_is_bounded_and_drops_the_oldest() -> None:
    ledger = Ledger(cap=3)
    with invocation("meter-cap", "sqs", "r"):
        pass
    template = recorded("meter-cap")
    for n in range(5):
        ledger.record(dataclasses.replace(template, id=str(n)))
    assert [r.id for r in ledger.take()] == ["2", "3", "4"]
    assert ledger.dropped == 2
    assert ledger.pending() == 0


@pytest.mark.parametrize(
    ("duration_ms", "bucket"),
    [(0.2, 1.0), (1.0, 1.0), (1.01, 2.5), (30.0, 50.0), (60_000.0, 60_000.0), (1e9, 900_000.0)],
)
def test_ledger_duration_buckets_are_the_histograms(duration_ms: float, bucket: float) -> None:
    assert bucket_of(duration_ms) == bucket

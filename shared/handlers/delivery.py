"""Delivery policy shared by every queue: a batch attempted as one invocation, attempts
counted per message, a failed message retried alone with backoff, and a dead letter after
the queue's `maxReceiveCount` (as SQS redrive does)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from shared import deadletters
from shared.concurrency import wait_for_slot
from shared.handlers.context import LambdaContext
from shared.lambda_events.sqs import receive_count
from shared.ports import Runtime

Resend = Callable[[str, dict[str, Any]], Awaitable[None]]


class Attempting(Protocol):
    name: str

    async def attempt_batch(
        self, records: list[dict[str, Any]], context: Any
    ) -> dict[str, str]: ...


def next_delivery(record: dict[str, Any]) -> dict[str, Any]:
    """The same message, received once more."""
    again = copy.deepcopy(record)
    again.setdefault("attributes", {})["ApproximateReceiveCount"] = str(receive_count(record) + 1)
    return again


def backoff_s(attempt: int, base: float = 0.5, cap: float = 10.0) -> float:
    """Exponential backoff before attempt n+1: 0.5 s, 1 s, 2 s, ... at most `cap`."""
    return float(min(cap, base * 2 ** (attempt - 1)))


async def deliver(
    fn: Attempting,
    records: list[dict[str, Any]],
    *,
    runtime: Runtime,
    max_receive: int,
    timeout_s: float,
    resend: Resend,
    reserved: int | None = None,
) -> dict[str, str]:
    """Attempt one batch as one invocation; each record that failed is delivered again on
    its own (after a backoff) or, at its last attempt, buried. Returns each record's fate by
    message id: "done", "retry" or "dead"."""
    token = None
    if reserved:  # a stage at its reserved concurrency waits, as SQS holds the messages
        token = await wait_for_slot(runtime.limiter, fn.name, reserved, timeout_s + 1)
    try:
        context = LambdaContext(fn.name, timeout_s=timeout_s)
        failures = await fn.attempt_batch(records, context)
    finally:
        if token is not None:
            await runtime.limiter.release(fn.name, token)

    async def after(record: dict[str, Any], error: str) -> str:
        attempts = receive_count(record)
        if attempts >= max_receive:
            await deadletters.bury(runtime, fn.name, record, error, attempts)
            return "dead"
        await asyncio.sleep(backoff_s(attempts, base=runtime.settings.retry_backoff_s))
        await resend(fn.name, next_delivery(record))
        return "retry"

    ids = [str(r.get("messageId", "")) for r in records]
    failed = [(mid, r) for mid, r in zip(ids, records, strict=True) if mid in failures]
    fates = await asyncio.gather(*(after(r, failures[mid]) for mid, r in failed))
    return {mid: "done" for mid in ids} | dict(zip((m for m, _ in failed), fates, strict=True))

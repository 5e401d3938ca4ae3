"""Delivery policy shared by every queue: attempts counted per message, retries with
backoff, and a dead letter after the queue's `maxReceiveCount` (as SQS redrive does)."""

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

    async def attempt(self, record: dict[str, Any], context: Any) -> str | None: ...


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
    record: dict[str, Any],
    *,
    runtime: Runtime,
    max_receive: int,
    timeout_s: float,
    resend: Resend,
    reserved: int | None = None,
) -> str:
    """Attempt one delivery; on failure schedule the next attempt or bury the message.
    Returns "done", "retry" or "dead"."""
    token = None
    if reserved:  # a stage at its reserved concurrency waits, as SQS holds the message
        token = await wait_for_slot(runtime.limiter, fn.name, reserved, timeout_s + 1)
    try:
        context = LambdaContext(fn.name, timeout_s=timeout_s)
        error = await fn.attempt(record, context)
    finally:
        if token is not None:
            await runtime.limiter.release(fn.name, token)
    if error is None:
        return "done"
    attempts = receive_count(record)
    if attempts >= max_receive:
        await deadletters.bury(runtime, fn.name, record, error, attempts)
        return "dead"
    await asyncio.sleep(backoff_s(attempts, base=runtime.settings.retry_backoff_s))
    await resend(fn.name, next_delivery(record))
    return "retry"

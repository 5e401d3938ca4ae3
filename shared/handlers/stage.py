"""@stage: a plain async core becomes a Lambda SQS-batch handler and a Taskiq task body.

The adapter parses each record into the core's message type, runs the core inside one
database transaction with the invocation wrapper around it, writes the core's output to
the outbox in that same transaction, and after commit dispatches it and settles the run.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_type_hints

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import (
    composition,  # noqa: F401  (a Lambda environment builds its runtime there)
    metrics,
    outbox,
    runs,
)
from shared.config import Settings
from shared.db import routing
from shared.handlers.context import LambdaContext
from shared.handlers.invocation import invocation
from shared.handlers.loop import run_sync
from shared.lambda_events.schedule import is_scheduled_event
from shared.lambda_events.sqs import batch_response, records_of, request_id_of_record
from shared.logs import get_logger
from shared.messages import Message
from shared.ports import Cache, Fetcher, Runtime, current

log = get_logger("quarry.stage")

M = TypeVar("M", bound=Message)
Output = Message | Sequence[Message] | None
Core = Callable[[M, "StageDeps"], Awaitable[Output]]


@dataclass
class StageDeps:
    """What a stage core may use: its transaction and the runtime's ports."""

    session: AsyncSession
    runtime: Runtime
    context: LambdaContext

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def fetcher(self) -> Fetcher:
        return self.runtime.fetcher

    @property
    def cache(self) -> Cache:
        return self.runtime.cache


def _as_list(out: Output) -> list[Message]:
    if out is None:
        return []
    if isinstance(out, Message):
        return [out]
    return list(out)


class StageFunction(Generic[M]):
    """A stage function: call it as a Lambda handler, or register `task` with Taskiq."""

    def __init__(
        self,
        name: str,
        core: Core[M],
        next_stage: str | None,
        on_schedule: Callable[[dict[str, Any]], M] | None,
    ) -> None:
        self.name = name
        self.core = core
        self.next_stage = next_stage
        self.on_schedule = on_schedule
        self.message_type: type[M] = get_type_hints(core)[
            next(iter(inspect.signature(core).parameters))
        ]
        self.__doc__ = core.__doc__

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The Lambda entry point: SQS batch in, partial batch failure report out."""
        return run_sync(self.process(event, context))

    async def process(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Handle an SQS batch (or an EventBridge scheduled event); never raises."""
        if is_scheduled_event(event) and self.on_schedule is not None:
            records = [
                {"messageId": event.get("id", "schedule"), "message": self.on_schedule(event)}
            ]
        else:
            records = records_of(event)
        failures = []
        for record in records:
            if await self._record(record, context) is not None:
                failures.append(str(record.get("messageId", "")))
        return batch_response(failures)

    async def attempt(self, record: dict[str, Any], context: Any) -> str | None:
        """Process one record; None on success, else what went wrong (never raises)."""
        return await self._record(record, context)

    async def _record(self, record: dict[str, Any], context: Any) -> str | None:
        rid = request_id_of_record(record) or str(  # the request that caused the message
            getattr(context, "aws_request_id", "") or record.get("messageId", "")
        )
        with invocation(self.name, "sqs", rid) as inv:
            try:
                message = record.get("message") or self.message_type.model_validate(
                    json.loads(record["body"])
                )
            except (KeyError, TypeError, ValueError, ValidationError) as exc:
                inv.outcome = "invalid"
                error = f"not a valid {self.message_type.__name__} message: {exc}"
                log.error(error, extra={"message_id": record.get("messageId")})
                return error
            try:
                with routing.request_scope(None):  # each message reads its own writes only
                    async with asyncio.timeout(_remaining_s(context)):
                        await self._run(message, context)
            except TimeoutError:
                inv.outcome = "timeout"
                metrics.TIMEOUTS.labels(self.name).inc()
                error = f"Task timed out after {_remaining_s(context, total=True):.2f} seconds"
                log.error(error, extra={"run_id": message.run_id})
                return error
            except Exception as exc:  # the adapter is the boundary: log once, report it
                inv.outcome = "error"
                log.exception("stage failed", extra={"run_id": message.run_id})
                return f"{type(exc).__name__}: {exc}"
            return None

    async def _run(self, message: M, context: Any) -> None:
        rt = current()
        ids: list[int] = []
        async with rt.db.writer() as session:
            if await runs.is_cancelled(session, message.run_id):
                log.info("skipped: run cancelled", extra={"run_id": message.run_id})
                return
            out = _as_list(await self.core(message, StageDeps(session, rt, context)))
            if out and self.next_stage:
                bodies = [m.model_dump() for m in out]
                ids = await outbox.add(session, message.run_id, self.next_stage, bodies)
        await outbox.flush(rt.db, rt.dispatcher, ids)
        await runs.settle(rt, message.run_id)


def _remaining_s(context: Any, *, total: bool = False) -> float | None:
    """Seconds the invocation may still run (a Lambda context's remaining time)."""
    if total and hasattr(context, "timeout_s"):
        return float(context.timeout_s)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else None


def stage(
    name: str,
    *,
    next: str | None = None,
    on_schedule: Callable[[dict[str, Any]], Any] | None = None,
) -> Callable[[Core[M]], StageFunction[M]]:
    """Turn `async def core(msg, deps) -> output` into a stage function named `name`."""

    def wrap(core: Core[M]) -> StageFunction[M]:
        return StageFunction(name, core, next, on_schedule)

    return wrap

"""@stage: a plain async core becomes a Lambda SQS-batch handler and a Taskiq task body.

The core takes one message and returns its `Outcome` (or a `Write` that returns it, run in
the batch's transaction); `shared.handlers.batch` does the rest for the whole batch, and the
flow (`shared.flow`, read from the runtime) says where what it sends goes.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, get_type_hints

from shared import (
    composition,  # noqa: F401  (a Lambda environment builds its runtime there)
    metrics,
)
from shared.flow import Stage
from shared.handlers.batch import Batch, Delivery, StageDeps, parse
from shared.handlers.invocation import flush_in_lambda, invocation
from shared.handlers.loop import run_sync
from shared.lambda_events.schedule import is_scheduled_event
from shared.lambda_events.sqs import batch_response, records_of, request_id_of_record
from shared.messages import Message
from shared.outcome import Result
from shared.ports import current

__all__ = ["StageDeps", "StageFunction", "stage"]

M = TypeVar("M", bound=Message)
Core = Callable[[M, StageDeps], Awaitable[Result]]


class StageFunction(Generic[M]):
    """A stage function: call it as a Lambda handler, or give Taskiq `attempt_batch`."""

    def __init__(
        self, name: str, core: Core[M], on_schedule: Callable[[dict[str, Any]], M] | None
    ) -> None:
        self.name = name
        self.core = core
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
        failures = await self.attempt_batch(records, context)
        await flush_in_lambda()  # metering: written before Lambda freezes the environment
        return batch_response(list(failures))

    async def attempt(self, record: dict[str, Any], context: Any) -> str | None:
        """Process one record; None on success, else what went wrong (never raises)."""
        failures = await self.attempt_batch([record], context)
        return next(iter(failures.values()), None)

    async def attempt_batch(self, records: list[dict[str, Any]], context: Any) -> dict[str, str]:
        """Process a batch as one invocation: the message id and error of each record that
        failed, in batch order (never raises)."""
        with invocation(self.name, "sqs", _request_id(records, context)) as inv:
            deliveries = [parse(r, self.message_type, context) for r in records]
            for d in deliveries:  # metering: SQS records received, each record's run billed
                if isinstance(d.record.get("body"), str):
                    inv.received_sqs(len(d.record["body"].encode()))
                if d.message is not None:
                    inv.for_run(d.message.run_id)
            if any(d.message is not None for d in deliveries):  # else no runtime is needed
                rt = current()
                stage = rt.flow.find(self.name) or Stage(self.name, self.message_type, per="run")
                await Batch(stage, self.core, rt, context).run(deliveries)
            inv.outcome = _outcome(deliveries)
            if inv.outcome == "timeout":
                metrics.TIMEOUTS.labels(self.name).inc()
        return {d.message_id: d.error for d in deliveries if d.error is not None}


def _request_id(records: list[dict[str, Any]], context: Any) -> str:
    """The invocation's request id: the one its records carry when they agree (a run's
    messages carry the request that started it), else the context's."""
    carried = {request_id_of_record(r) for r in records}
    if len(carried) == 1 and None not in carried:
        return str(carried.pop())
    first = records[0] if records else {}
    return str(getattr(context, "aws_request_id", "") or first.get("messageId", ""))


def _outcome(deliveries: list[Delivery]) -> str:
    """The invocation's outcome: success when every record succeeded, else the first failed
    record's kind (invalid, timeout, error)."""
    return next((d.kind for d in deliveries if d.error is not None), "success")


def stage(
    name: str, *, on_schedule: Callable[[dict[str, Any]], Any] | None = None
) -> Callable[[Core[M]], StageFunction[M]]:
    """Turn `async def core(msg, deps) -> Outcome` into the stage function `name`; where
    what it sends goes, and whether it works per run or per document, the flow says."""

    def wrap(core: Core[M]) -> StageFunction[M]:
        return StageFunction(name, core, on_schedule)

    return wrap

"""One invocation of a stage over a batch of SQS records, as Lambda delivers them.

1. parse each record into the stage's message (a bad one fails alone);
2. one short read: which messages are new to the stage, which are copies of handled ones or
   belong to a cancelled run (those succeed with no effect);
3. the cores run side by side; each reads what it needs in short blocks of the invocation's
   one connection and does its network and LLM calls holding none;
4. one transaction books every outcome (result rows, counters, the runs made final, outbox
   rows); a record whose write fails is left out and the rest booked again;
5. after commit, what goes on is sent in one call per stage, and finished runs are settled.

A record fails alone: its id goes in `batchItemFailures`, and the queue delivers it again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shared import metrics, outbox
from shared.config import Settings
from shared.flow import Stage
from shared.handlers.connection import OneConnection
from shared.lambda_events.sqs import request_id_of_record
from shared.logs import get_logger, request_id_var
from shared.messages import Message
from shared.outcome import Result
from shared.ports import Cache, Fetcher, Runtime
from shared.repo import progress, settlement

log = get_logger("quarry.stage")
# Of the function's time, a quarter (at most this) is kept for the batch's transaction: a
# core still running then fails alone, so the others can be booked before the timeout.
WRITE_MARGIN_S = 5.0


@dataclass
class StageDeps:
    """What a stage core may use: the runtime's ports, and the invocation's one connection
    (`read()` for a short block of reads; `db` for what must write on its own, such as the
    LLM budget)."""

    runtime: Runtime
    context: Any  # a Lambda context: ours locally, AWS's in Lambda
    db: OneConnection

    def read(self) -> Any:
        """A short block on the primary, `async with deps.read() as session:`."""
        return self.db.writer()

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def fetcher(self) -> Fetcher:
        return self.runtime.fetcher

    @property
    def cache(self) -> Cache:
        return self.runtime.cache


Core = Callable[[Any, StageDeps], Awaitable[Result]]


@dataclass
class Delivery:
    """One record of the batch and what became of it."""

    record: dict[str, Any]
    message_id: str
    request_id: str
    message: Message | None = None
    result: Result | None = None
    error: str | None = None
    kind: str = "success"  # its share of the invocation's outcome: invalid, timeout, error
    booked: bool = False

    def fail(self, kind: str, error: str) -> None:
        self.kind, self.error = kind, error


def parse(record: dict[str, Any], message_type: type[Message], context: Any) -> Delivery:
    """A record as a delivery of `message_type`; one that is not fails alone, as invalid."""
    message_id = str(record.get("messageId", ""))
    invocation_id = str(getattr(context, "aws_request_id", "") or "")
    rid = request_id_of_record(record) or invocation_id or message_id
    delivery = Delivery(record, message_id, rid)
    try:
        delivery.message = record.get("message") or message_type.model_validate(
            json.loads(record["body"])
        )
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        delivery.fail("invalid", f"not a valid {message_type.__name__} message: {exc}")
        log.error(delivery.error, extra={"message_id": message_id})
    return delivery


class Batch:
    """One invocation of stage `stage` with `core`, over a batch of parsed deliveries."""

    def __init__(self, stage: Stage, core: Core, runtime: Runtime, context: Any) -> None:
        self.stage, self.core, self.rt, self.context = stage, core, runtime, context
        self.db = OneConnection(runtime.db)
        self.deps = StageDeps(runtime, context, self.db)
        # Lambda's own context knows only the time left; ours also the function's timeout
        self.total_s = float(getattr(context, "timeout_s", 0) or _remaining_s(context) or 0)

    async def run(self, deliveries: list[Delivery]) -> list[Delivery]:
        """Handle the parsed deliveries (invalid ones have failed already)."""
        valid = [d for d in deliveries if d.message is not None]
        try:
            async with asyncio.timeout(_remaining_s(self.context)):
                await self._handle(valid)
        except TimeoutError:  # the invocation ran out of time: whatever is unbooked fails
            self._fail_unbooked(valid, "timeout", self.timed_out())
        except Exception as exc:  # the batch's own reads (the database away): report them all
            log.exception("stage batch failed")
            self._fail_unbooked(valid, "error", f"{type(exc).__name__}: {exc}")
        return deliveries

    @staticmethod
    def _fail_unbooked(deliveries: list[Delivery], kind: str, error: str) -> None:
        for d in deliveries:
            if d.error is None and not d.booked:
                d.fail(kind, error)

    def timed_out(self) -> str:
        return f"Task timed out after {self.total_s:.2f} seconds"

    async def _handle(self, valid: list[Delivery]) -> None:
        if not valid:
            return
        async with self.db.writer() as session:
            looks = await progress.look(
                session, self.rt.flow, self.stage, [d.message for d in valid if d.message]
            )
        todo = []
        for d, seen in zip(valid, looks, strict=True):
            if seen == "new":
                todo.append(d)
            elif seen in ("cancelled", "gone"):
                assert d.message is not None
                log.info("skipped: run %s", seen, extra={"run_id": d.message.run_id})
        todo = await self._within_budget(todo)
        left = _remaining_s(self.context)
        budget = None if left is None else max(left - min(WRITE_MARGIN_S, left / 4), 0.001)
        await asyncio.gather(*(self._core(d, budget) for d in todo))
        booked = await self._book([d for d in todo if d.error is None])
        if booked is None:
            return
        await outbox.send(self.db, self.rt.dispatcher, booked.sends)
        for run_id, state in booked.finished.items():
            self.settled(run_id, state)
        for outcome in booked.outcomes.values():
            if self.stage.per == "document" or self.stage == self.rt.flow.first:
                metrics.DOCUMENTS.labels(self.stage.name, outcome.status).inc(
                    len(outcome.send) if self.stage == self.rt.flow.first else 1
                )

    async def _within_budget(self, todo: list[Delivery]) -> list[Delivery]:
        """`todo` less the records of runs whose estimated AWS cost reached the run compute
        budget (QUARRY_RUN_COMPUTE_BUDGET_USD): those runs fail once, their records succeed
        with no effect. One short read per batch, and only with a budget set."""
        budget = self.rt.settings.run_compute_budget_usd
        if budget is None or not todo:
            return todo
        run_ids = sorted({d.message.run_id for d in todo if d.message is not None})
        async with self.db.writer() as session:
            over = {
                run_id
                for run_id in run_ids
                if await settlement.stop_over_budget(session, run_id, budget, self.rt.flow)
            }
        for run_id in over:
            log.info("skipped: run over its compute budget", extra={"run_id": run_id})
        return [d for d in todo if d.message is None or d.message.run_id not in over]

    def settled(self, run_id: str, state: str) -> None:
        """The run-settlement hook, after the commit that made the run final (its on_final
        message and subscribers' events were written in that transaction)."""
        log.info("run finished", extra={"run_id": run_id, "state": state})

    async def _core(self, d: Delivery, budget: float | None) -> None:
        assert d.message is not None
        token = request_id_var.set(d.request_id)
        try:
            async with asyncio.timeout(budget):
                d.result = await self.core(d.message, self.deps)
        except TimeoutError:
            d.fail("timeout", self.timed_out())
            log.error(d.error, extra={"run_id": d.message.run_id})
        except Exception as exc:  # the adapter is the boundary: log once, report the record
            d.fail("error", f"{type(exc).__name__}: {exc}")
            log.exception("stage failed", extra={"run_id": d.message.run_id})
        finally:
            request_id_var.reset(token)

    async def _book(self, ready: list[Delivery]) -> progress.Booked | None:
        """Book `ready` in one transaction; a record whose write fails is reported and the
        rest booked again without it. An error that names no record (the database went
        away, a constraint) books them one at a time, so only a failing one is reported."""
        while ready:
            entries = [
                progress.Entry(i, d.message, d.result, d.request_id)
                for i, d in enumerate(ready)
                if d.message is not None and d.result is not None
            ]
            try:
                async with self.db.writer() as session:
                    booked = await progress.book(session, self.rt.flow, self.stage, entries)
            except progress.EntryError as exc:
                d = ready.pop(exc.key)
                d.fail("error", str(exc))
                run_id = d.message.run_id if d.message else None
                log.error("stage write failed: %s", exc, extra={"run_id": run_id})
                continue
            except Exception as exc:
                if len(ready) == 1:
                    ready[0].fail("error", f"{type(exc).__name__}: {exc}")
                    log.exception("stage write failed")
                    return None
                return _merged([await self._book([d]) for d in ready])
            for d in ready:
                d.booked = True
            return booked
        return None


def _merged(parts: list[progress.Booked | None]) -> progress.Booked:
    out = progress.Booked()
    for part in parts:
        if part is not None:
            out.outcomes.update({len(out.outcomes) + k: v for k, v in part.outcomes.items()})
            out.sends += part.sends
            out.finished.update(part.finished)
    return out


def _remaining_s(context: Any) -> float | None:
    """Seconds the invocation may still run (a Lambda context's remaining time)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else None

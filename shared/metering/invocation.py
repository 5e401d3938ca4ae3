"""The invocation a piece of code runs in: what the one invocation wrapper
(`shared.handlers.invocation`) counts of it for the ledger and its cost (its runs, SQS requests,
HTTP outcome). Below the handlers, so the outbox and the run lifecycle can add to it."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

from shared.metering.usage import sqs_delete_requests, sqs_requests
from shared.observability.emf import HttpOutcome


@dataclass
class Invocation:
    """Mutable outcome of one invocation; the wrapper reads it when the block ends."""

    function: str
    trigger: str
    request_id: str
    cold: bool
    outcome: str = "success"
    http: HttpOutcome | None = None
    runs: dict[str, float] = field(default_factory=dict)  # run id → records of it
    received: list[int] = field(default_factory=list)  # body sizes of the SQS records
    sent: int = 0  # SQS requests made sending messages

    def for_run(self, run_id: str, records: float = 1.0) -> None:
        """Count `records` of the invocation's work as the run's: its cost is split between
        its runs by records (one record each, unless told otherwise)."""
        self.runs[run_id] = self.runs.get(run_id, 0.0) + records

    def received_sqs(self, body_bytes: int) -> None:
        """One SQS record of the batch this invocation handles (received, then deleted)."""
        self.received.append(body_bytes)

    def sent_sqs(self, body_sizes: Sequence[int]) -> None:
        """One send of messages with these body sizes to a queue."""
        self.sent += sqs_requests(body_sizes)

    @property
    def sqs_requests(self) -> int:
        if not self.received:
            return self.sent
        return self.sent + sqs_requests(self.received) + sqs_delete_requests(len(self.received))


invocation_var: ContextVar[Invocation | None] = ContextVar("invocation", default=None)


def current_invocation() -> Invocation | None:
    """The invocation this code runs in, if any (its run and request counts are added here)."""
    return invocation_var.get()

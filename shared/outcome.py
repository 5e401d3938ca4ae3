"""What a stage core returns: what happened to its message and what goes on from it. The
stage adapter does the bookkeeping (result rows, counters, outbox); cores only say this.

A core that must write before it knows the outcome (a document's extracted fields, the
near-duplicate check that needs them) returns a `Write` instead: the adapter calls it inside
the one transaction it commits for the whole batch, and it returns the outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from shared.messages import Message

Status = Literal["succeeded", "skipped", "failed"]
STATUSES: tuple[Status, ...] = ("succeeded", "failed", "skipped")


@dataclass(frozen=True)
class Outcome:
    """succeeded (with the messages for the next stage), skipped or failed (with why)."""

    status: Status
    detail: str | None = None
    send: tuple[Message, ...] = ()


def succeeded(*send: Message) -> Outcome:
    """The message was handled; `send` goes to the next stage of the flow."""
    return Outcome("succeeded", None, send)


def skipped(reason: str) -> Outcome:
    """Nothing to do for this document (unchanged, a duplicate, no text): final, not failed."""
    return Outcome("skipped", reason)


def failed(reason: str) -> Outcome:
    """The document cannot go on (refused, broken, invalid): final and counted as failed.
    For a failure that another attempt may cure (a provider down), raise instead: the
    record is then reported to the queue, which delivers it again."""
    return Outcome("failed", reason)


Write = Callable[[AsyncSession], Awaitable[Outcome]]
Result = Outcome | Write

"""Dead letters: messages that failed their last allowed attempt, kept for replay."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update

from shared.db.models import DeadLetter, utcnow
from shared.errors import ConflictError, NotFoundError
from shared.logs import get_logger
from shared.metrics import DEAD_LETTERS
from shared.pagination.keyset import keyset, page_of
from shared.ports import Runtime
from shared.schemas import DeadLetterOut, Page

log = get_logger("quarry.deadletters")


def body_of(record: dict[str, Any]) -> dict[str, Any]:
    """The message body of an SQS-shaped record; unparseable bodies are kept verbatim."""
    try:
        body = json.loads(record.get("body") or "null")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {"raw": str(record.get("body"))}


async def bury(rt: Runtime, stage: str, record: dict[str, Any], error: str, attempts: int) -> str:
    """Keep a message that will not be attempted again."""
    body = body_of(record)
    async with rt.db.writer() as session:
        letter = DeadLetter(
            stage=stage, run_id=body.get("run_id"), body=body, error=error[:4000], attempts=attempts
        )
        session.add(letter)
    DEAD_LETTERS.labels(stage).inc()
    log.error(
        "dead-lettered after %d attempts: %s",
        attempts,
        error,
        extra={"stage": stage, "dead_letter_id": letter.id},
    )
    return letter.id


async def replay(rt: Runtime, letter_id: str) -> DeadLetter:
    """Send a dead letter's message to its stage again, as a first attempt. Sent before it is
    marked replayed: when the queue is down the send fails (a 503) and the letter stays, where
    the other order would mark it replayed and lose the message; a replay sent twice by two
    racing callers changes nothing, stages being idempotent."""
    async with rt.db.writer() as session:  # the primary: a letter just buried is there
        letter = await session.get(DeadLetter, letter_id)
    if letter is None:
        raise NotFoundError(f"dead letter {letter_id} does not exist")
    if letter.replayed_at is not None:
        raise ConflictError(f"dead letter {letter_id} was already replayed")
    await rt.dispatcher.send(letter.stage, [letter.body])
    letter.replayed_at = utcnow()
    async with rt.db.writer() as session:
        await session.execute(
            update(DeadLetter)
            .where(DeadLetter.id == letter_id)
            .values(replayed_at=letter.replayed_at)
        )
    return letter


async def discard(rt: Runtime, letter_id: str) -> None:
    async with rt.db.writer() as session:
        letter = await session.get(DeadLetter, letter_id)
        if letter is None:
            raise NotFoundError(f"dead letter {letter_id} does not exist")
        await session.delete(letter)


async def count(rt: Runtime) -> int:
    async with rt.db.reader() as session:
        rows = await session.scalars(select(DeadLetter.id).where(DeadLetter.replayed_at.is_(None)))
        return len(rows.all())


async def list_(
    rt: Runtime, limit: int, cursor: str | None, stage: str | None
) -> Page[DeadLetterOut]:
    stmt = select(DeadLetter)
    if stage:
        stmt = stmt.where(DeadLetter.stage == stage)
    secret = rt.settings.secret_key.get_secret_value().encode()
    stmt = keyset(stmt, DeadLetter.created_at, DeadLetter.id, cursor, limit, secret)
    async with rt.db.reader() as session:
        rows = (await session.scalars(stmt)).all()
    items, nxt = page_of(rows, limit, secret, "created_at")
    return Page(items=[DeadLetterOut.model_validate(r) for r in items], next_cursor=nxt)

"""A stage batch's bookkeeping, in the one transaction the batch commits: which deliveries are
new, the result rows, each run's counters and final state, and the outbox rows of what goes
on. Written once here for every stage; stage cores only say what happened.

A delivery is booked by inserting its result row (or, for the first stage, moving its run
from queued to running): a copy delivered at the same time waits on that row and then finds
it taken, so one delivery counts and the other does nothing. Counters move only with rows
this transaction inserted, so a run becomes final once, in the transaction whose results
make its last document final (shared.repo.settlement).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.db.models import ACTIVE_STATES, Run, StageResult, utcnow
from shared.db.upsert import insert_new
from shared.errors import ConfigError
from shared.flow import Flow, Stage
from shared.messages import Message
from shared.outcome import Outcome, Result
from shared.repo import settlement

Look = Literal["new", "done", "cancelled", "gone"]
KEY = ("run_id", "document_id", "stage")


class EntryError(Exception):
    """One entry of the batch could not be booked; the others can be, without it."""

    def __init__(self, key: int, error: Exception) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.key = key
        self.error = error


@dataclass(frozen=True)
class Entry:
    """One new delivery of the batch, with what its core returned."""

    key: int
    message: Message
    result: Result
    request_id: str | None = None


@dataclass
class Booked:
    """What the transaction booked: each entry's outcome (copies booked elsewhere are left
    out), the outbox rows to send after commit, and the runs it made final."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)
    sends: list[outbox.Pending] = field(default_factory=list)
    finished: dict[str, str] = field(default_factory=dict)


def _document(message: Message) -> str:
    return str(getattr(message, "document_id"))  # noqa: B009 - per-document messages have it


async def look(
    session: AsyncSession, flow: Flow, stage: Stage, messages: Sequence[Message]
) -> list[Look]:
    """For each message, whether it is new to this stage, already handled (a copy, or its run
    is over), or its run is cancelled or gone. One short read for the whole batch."""
    if flow.find(stage.name) is None or stage == flow.on_final:
        return ["new"] * len(messages)  # no run bookkeeping: recomputes are harmless
    run_ids = {m.run_id for m in messages}
    found = await session.execute(select(Run.id, Run.state).where(Run.id.in_(run_ids)))
    states = dict(found.all())
    booked: set[tuple[str, str]] = set()
    if stage.per == "document":
        rows = await session.execute(
            select(StageResult.run_id, StageResult.document_id).where(
                StageResult.stage == stage.name,
                StageResult.run_id.in_(run_ids),
                StageResult.document_id.in_({_document(m) for m in messages}),
            )
        )
        booked = {(r, d) for r, d in rows.all()}
    out: list[Look] = []
    for m in messages:
        state = states.get(m.run_id)
        if state is None:
            out.append("gone")
        elif state == "cancelled":
            out.append("cancelled")
        elif stage.per == "document":
            done = (m.run_id, _document(m)) in booked or state not in ACTIVE_STATES
            out.append("done" if done else "new")
        else:
            out.append("new" if state == "queued" else "done")
    return out


async def book(session: AsyncSession, flow: Flow, stage: Stage, entries: Sequence[Entry]) -> Booked:
    """Book the batch's outcomes in the caller's transaction. EntryError names an entry
    whose write failed or whose outcome breaks the flow; the caller books the rest again."""
    ordered = sorted(entries, key=_lock_order)
    if flow.find(stage.name) is None or stage == flow.on_final:
        return await _book_plain(session, ordered)
    if stage == flow.first:
        return await _book_runs(session, flow, stage, ordered)
    return await _book_documents(session, flow, stage, ordered)


def _lock_order(entry: Entry) -> tuple[str, str, str]:
    """Every transaction takes its locks (per-source advisory locks in a stage's write, then
    the runs' rows) in one order, so two batches never wait on each other in a cycle."""
    m = entry.message
    return (str(getattr(m, "source_id", "") or ""), m.run_id, str(getattr(m, "document_id", "")))


async def _resolve(session: AsyncSession, entry: Entry) -> Outcome:
    if isinstance(entry.result, Outcome):
        return entry.result
    try:
        return await entry.result(session)
    except Exception as exc:  # this entry's write: the batch goes on without it
        raise EntryError(entry.key, exc) from exc


def _onward(flow: Flow, stage: Stage, entry: Entry, outcome: Outcome) -> Stage | None:
    """The stage the outcome's messages go to, once they are checked against the flow."""
    following = flow.next(stage.name)
    problem = None
    if outcome.send and (outcome.status != "succeeded" or following is None):
        problem = f"stage {stage.name!r} sent messages, but nothing follows it in the flow"
    for m in outcome.send:
        if following is not None and not isinstance(m, following.message):
            problem = (
                f"stage {stage.name!r} sent a {type(m).__name__}; the flow's next stage, "
                f"{following.name!r}, takes {following.message.__name__}"
            )
        elif m.run_id != entry.message.run_id:
            problem = f"stage {stage.name!r} sent a message of another run ({m.run_id})"
    if (
        stage.per == "document"
        and outcome.send
        and (len(outcome.send) > 1 or _document(outcome.send[0]) != _document(entry.message))
    ):
        problem = f"stage {stage.name!r} works per document: it sends on its own, once"
    if problem:
        raise EntryError(entry.key, ConfigError(problem))
    return following


async def _book_plain(session: AsyncSession, entries: Sequence[Entry]) -> Booked:
    """The on_final stage, or a stage outside the flow: its write, nothing to count."""
    booked = Booked()
    for entry in entries:
        outcome = await _resolve(session, entry)
        if outcome.send:
            raise EntryError(entry.key, ConfigError("this stage sends nothing on in the flow"))
        booked.outcomes[entry.key] = outcome
    return booked


async def _book_runs(
    session: AsyncSession, flow: Flow, stage: Stage, entries: Sequence[Entry]
) -> Booked:
    """The first stage: the run goes from queued to running, its documents are counted and
    handed on (none: the run is final now), or the run fails as a whole."""
    booked = Booked()
    for entry in entries:
        run_id = entry.message.run_id
        claimed = await session.execute(
            update(Run)
            .where(Run.id == run_id, Run.state == "queued")
            .values(state="running", started_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue  # a copy of this delivery booked it
        outcome = await _resolve(session, entry)
        booked.outcomes[entry.key] = outcome
        if outcome.status == "failed":
            ended = await settlement.finish(
                session, flow, run_id, "failed", error=outcome.detail, rollup=False
            )
            if ended is not None:
                booked.finished[run_id] = "failed"
            continue
        if outcome.status != "succeeded":
            raise EntryError(entry.key, ConfigError("the first stage succeeds or fails a run"))
        following = _onward(flow, stage, entry, outcome)
        documents = [_document(m) for m in outcome.send]
        if len(set(documents)) != len(documents):
            raise EntryError(entry.key, ConfigError(f"{stage.name} sent a document twice"))
        await session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(discovered=len(documents))
            .execution_options(synchronize_session=False)
        )
        now = utcnow()
        rows = [
            {"run_id": run_id, "document_id": d, "stage": stage.name, "status": "succeeded"}
            for d in documents
        ]
        await insert_new(session, StageResult, [{**r, "updated_at": now} for r in rows], KEY)
        if following is not None and outcome.send:
            booked.sends += await outbox.add_pending(
                session, run_id, following.name, outcome.send, entry.request_id
            )
        done = None if documents else await settlement.finish(session, flow, run_id, "succeeded")
        if done is not None:
            booked.finished[run_id] = "succeeded"
            booked.sends += done
    return booked


async def _book_documents(
    session: AsyncSession, flow: Flow, stage: Stage, entries: Sequence[Entry]
) -> Booked:
    """A document stage: one result row per document, counters, what goes on."""
    booked = Booked()
    now = utcnow()
    first: dict[int, Outcome] = {
        e.key: e.result if isinstance(e.result, Outcome) else Outcome("succeeded") for e in entries
    }
    rows = [
        {
            "run_id": e.message.run_id,
            "document_id": _document(e.message),
            "stage": stage.name,
            "status": first[e.key].status,
            "detail": first[e.key].detail,
            "updated_at": now,
        }
        for e in entries
    ]
    new = await insert_new(session, StageResult, rows, KEY)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    onward: list[tuple[Entry, Outcome, Stage]] = []
    for entry in entries:
        run_id, document_id = entry.message.run_id, _document(entry.message)
        if (run_id, document_id, stage.name) not in new:
            continue  # a copy of this delivery booked it
        outcome = await _resolve(session, entry)
        if (outcome.status, outcome.detail) != (first[entry.key].status, first[entry.key].detail):
            await session.execute(
                update(StageResult)
                .where(
                    StageResult.run_id == run_id,
                    StageResult.document_id == document_id,
                    StageResult.stage == stage.name,
                )
                .values(status=outcome.status, detail=outcome.detail)
                .execution_options(synchronize_session=False)
            )
        following = _onward(flow, stage, entry, outcome)
        booked.outcomes[entry.key] = outcome
        if outcome.send and following is not None:
            onward.append((entry, outcome, following))
            counts.setdefault(run_id, [0, 0])  # its state decides whether to send on
        else:  # the document's path ends here: it is final in the run
            counts[run_id][0] += 1
            counts[run_id][1] += outcome.status == "failed"
    runs = await settlement.count(session, counts)
    for entry, outcome, following in onward:
        run = runs.get(entry.message.run_id)
        if run is not None and run.state in ACTIVE_STATES:  # not cancelled meanwhile
            booked.sends += await outbox.add_pending(
                session, entry.message.run_id, following.name, outcome.send, entry.request_id
            )
    for run_id, run in sorted(runs.items()):
        if run.ready:
            state = "failed" if run.discovered and run.failed >= run.discovered else "succeeded"
            done = await settlement.finish(session, flow, run_id, state)
            if done is not None:
                booked.finished[run_id] = state
                booked.sends += done
    return booked

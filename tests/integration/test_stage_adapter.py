"""The stage adapter over batches, through the probe stage (tests/functions/probe.py): each
outcome booked, a failing record reported and retried alone while the rest of its batch
commits, copies and cancelled runs doing nothing, and a run settled once from its counters,
on SQLite and on Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from emulator.platform import Embedded, embedded
from emulator.stack.services.ports import free_port
from shared import ports
from shared.composition import build_runtime
from shared.config import Settings
from shared.db.engine import SqlDatabase
from shared.db.models import Document, Outbox, Run, Source, StageResult
from shared.handlers.context import LambdaContext
from shared.lambda_events.sqs import message_record
from shared.runs import start_run
from tests.conftest import ROOT
from tests.functions import flow, probe
from tests.integration.conftest import poll

pytest_plugins = ("tests.integration.pg",)
TABLE = ROOT / "tests/functions/serverless.yml"
BASE = "http://probe.test/"


@pytest.fixture(params=["sqlite", "postgres"])
def db_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "sqlite":
        return settings
    url = request.getfixturevalue("migrated_postgres_url")
    return settings.model_copy(update={"database_url": url})


@pytest.fixture
async def probed(settings: Settings) -> AsyncIterator[Embedded]:
    probe.attempts.clear()
    async with embedded(settings, TABLE, background=False, flow=flow.PROBE) as platform:
        yield platform


async def seed(
    platform: Embedded, actions: list[str], state: str = "running"
) -> tuple[str, str, dict[str, str]]:
    """A run covering one document per action, as discovery leaves it; document ids by action."""
    async with platform.runtime.db.writer() as s:
        source = Source(name="probe", kind="urls", urls=[BASE + a for a in actions])
        s.add(source)
        await s.flush()
        run = Run(source_id=source.id, state=state, discovered=len(actions))
        docs = {a: Document(source_id=source.id, url=BASE + a) for a in actions}
        s.add_all([run, *docs.values()])
    return source.id, run.id, {a: d.id for a, d in docs.items()}


def records(source_id: str, run_id: str, docs: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        action: message_record(
            "probe",
            {"run_id": run_id, "source_id": source_id, "document_id": doc, "url": BASE + action},
        )
        for action, doc in docs.items()
    }


async def state(platform: Embedded, run_id: str) -> dict[str, Any]:
    """The run's results by document action, counters, state and on_final dispatches."""
    async with platform.runtime.db.reader() as s:
        run = await s.get(Run, run_id, populate_existing=True)
        assert run is not None
        rows = await s.execute(
            select(Document.url, StageResult.status)
            .join(Document, Document.id == StageResult.document_id)
            .where(StageResult.run_id == run_id, StageResult.stage == "probe")
        )
        finals = await s.scalar(
            select(func.count()).where(Outbox.run_id == run_id, Outbox.stage == "analytics")
        )
    return {
        "results": {url.removeprefix(BASE): status for url, status in rows.all()},
        "counted": (run.documents_final, run.documents_failed),
        "state": run.state,
        "rollups": finals,
    }


def invocations(outcome: str) -> float:
    labels = {"function": "probe", "trigger": "sqs", "outcome": outcome}
    return REGISTRY.get_sample_value("quarry_function_invocations_total", labels) or 0.0


async def test_stage_adapter_books_each_outcome_and_reports_failing_records_alone(
    probed: Embedded,
) -> None:
    actions = ["ok", "skip", "fail", "raise-once", "bad-write-once"]
    source_id, run_id, docs = await seed(probed, actions)
    batch = records(source_id, run_id, docs)
    invalid = {**message_record("probe", {}), "body": '{"run_id": 1}'}
    ctx = LambdaContext("probe", timeout_s=3)
    failures = await probe.handler.attempt_batch([*batch.values(), invalid], ctx)
    assert list(failures) == [
        batch["raise-once"]["messageId"],
        batch["bad-write-once"]["messageId"],
        invalid["messageId"],
    ]
    assert failures[batch["raise-once"]["messageId"]] == (
        "RuntimeError: probe: the first attempt fails"
    )
    assert "probe: the first write fails" in failures[batch["bad-write-once"]["messageId"]]
    assert "not a valid ExtractDocument message" in failures[invalid["messageId"]]
    assert await state(probed, run_id) == {
        "results": {"ok": "succeeded", "skip": "skipped", "fail": "failed"},
        "counted": (3, 1),
        "state": "running",
        "rollups": 0,
    }
    again = [batch["raise-once"], batch["bad-write-once"]]  # the queue delivers them again
    assert await probe.handler.process({"Records": again}, ctx) == {"batchItemFailures": []}
    done = await state(probed, run_id)
    statuses = ["succeeded", "skipped", "failed", "succeeded", "succeeded"]
    assert done["results"] == dict(zip(actions, statuses, strict=True))
    assert (done["counted"], done["state"], done["rollups"]) == ((5, 1), "succeeded", 1)
    # every record once more (a crash between commit and acknowledgement): nothing changes,
    # and no core runs again
    seen = dict(probe.attempts)
    assert await probe.handler.process({"Records": list(batch.values())}, ctx) == {
        "batchItemFailures": []
    }
    assert await state(probed, run_id) == done
    assert dict(probe.attempts) == seen


async def test_stage_adapter_run_through_the_broker_retries_failing_records_alone(
    probed: Embedded,
) -> None:
    actions = ["ok", "skip", "fail", "raise-once", "bad-write-once"]
    async with probed.runtime.db.writer() as s:
        source = Source(name="probe", kind="urls", urls=[BASE + a for a in actions])
        s.add(source)
    before = {o: invocations(o) for o in ("success", "error")}
    run = await start_run(probed.runtime, source.id)

    async def final() -> dict[str, Any] | None:
        found = await state(probed, run.id)
        return found if found["state"] not in ("queued", "running") else None

    found = await poll("the probe run to finish", final)
    await probed.idle()
    assert found["results"] == {
        "ok": "succeeded",
        "skip": "skipped",
        "fail": "failed",
        "raise-once": "succeeded",
        "bad-write-once": "succeeded",
    }
    assert (found["counted"], found["state"], found["rollups"]) == ((5, 1), "succeeded", 1)
    # one invocation for the five (one batch), then one for each failed record, alone
    assert invocations("error") - before["error"] == 1
    assert invocations("success") - before["success"] == 2
    assert probe.attempts[BASE + "raise-once"] == probe.attempts[BASE + "bad-write-once"] == 2
    assert probe.attempts[BASE + "ok"] == 1


async def test_stage_adapter_copies_at_once_count_once_and_the_run_settles_once(
    db_settings: Settings,
) -> None:
    probe.attempts.clear()
    async with embedded(db_settings, TABLE, background=False, flow=flow.PROBE) as platform:
        actions = [f"doc-{i}/read" for i in range(20)]
        source_id, run_id, docs = await seed(platform, actions)
        batch = list(records(source_id, run_id, docs).values())
        ctx = LambdaContext("probe", timeout_s=10)
        # every record in two batches at once, halves in one order and in the other
        batches = [batch[:10], batch[10:], batch[10:][::-1], batch[:10][::-1]]
        results = await asyncio.gather(
            *(probe.handler.process({"Records": b}, ctx) for b in batches)
        )
        assert results == [{"batchItemFailures": []}] * 4
        found = await state(platform, run_id)
        async with platform.runtime.db.reader() as s:
            rows = await s.scalar(select(func.count()).where(StageResult.run_id == run_id))
    assert rows == 20
    assert (found["counted"], found["state"], found["rollups"]) == ((20, 0), "succeeded", 1)


async def test_stage_adapter_skips_messages_of_cancelled_runs(probed: Embedded) -> None:
    source_id, run_id, docs = await seed(probed, ["ok", "fail"], state="cancelled")
    batch = list(records(source_id, run_id, docs).values())
    ctx = LambdaContext("probe", timeout_s=3)
    assert await probe.handler.process({"Records": batch}, ctx) == {"batchItemFailures": []}
    assert (await state(probed, run_id))["results"] == {}
    assert probe.attempts == {}  # the core never ran


async def test_stage_adapter_timeout_fails_only_the_slow_record(probed: Embedded) -> None:
    source_id, run_id, docs = await seed(probed, ["ok", "sleep"])
    batch = records(source_id, run_id, docs)
    ctx = LambdaContext("probe", timeout_s=4)  # the cores get 3 s, the transaction 1 s
    failures = await probe.handler.attempt_batch(list(batch.values()), ctx)
    assert failures == {batch["sleep"]["messageId"]: "Task timed out after 4.00 seconds"}
    assert (await state(probed, run_id))["results"] == {"ok": "succeeded"}


async def test_stage_adapter_refuses_a_session_inside_another(probed: Embedded) -> None:
    source_id, run_id, docs = await seed(probed, ["read", "nested"])
    batch = records(source_id, run_id, docs)
    ctx = LambdaContext("probe", timeout_s=3)
    failures = await probe.handler.attempt_batch(list(batch.values()), ctx)
    assert list(failures) == [batch["nested"]["messageId"]]
    assert (
        "NestedUseError: a stage opened a database session inside another"
        in (failures[batch["nested"]["messageId"]])
    )
    assert (await state(probed, run_id))["results"] == {"read": "succeeded"}


async def test_stage_adapter_reports_every_record_when_the_database_is_away(
    settings: Settings,
) -> None:
    gone = SqlDatabase(  # a port nothing listens on
        f"postgresql://quarry@127.0.0.1:{free_port()}/quarry"
    )
    ports.install(replace(build_runtime(settings, dispatcher=Nowhere(), flow=flow.PROBE), db=gone))
    try:
        ids = {"run_id": "r", "source_id": "s"}
        batch = [
            message_record("probe", {**ids, "document_id": f"d{i}", "url": BASE}) for i in (1, 2)
        ]
        result = await probe.handler.process({"Records": batch}, LambdaContext("probe"))
    finally:
        ports.install(None)
        await gone.dispose()
    assert result == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in batch]}


class Nowhere:
    """A dispatch port that must not be reached."""

    async def send(self, stage: str, bodies: Any) -> None:
        raise AssertionError(f"nothing may be sent to {stage}")

"""Stage functions through their Lambda entry point: SQS batches, failures, redelivery."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from emulator.platform import Embedded
from functions.stages import analytics, extraction, intelligence
from shared.db.models import Document, Insight, Outbox, Rollup, Run, Source, StageResult
from shared.handlers.context import LambdaContext
from shared.lambda_events.schedule import scheduled_event
from shared.lambda_events.sqs import message_record

PAGE = "/articles/moray-offshore-wind-farm-powers-up.html"


async def seed(platform: Embedded, url: str) -> tuple[str, str, str]:
    async with platform.runtime.db.writer() as s:
        source = Source(name="t", kind="urls", url=None, urls=[url])
        s.add(source)
        await s.flush()
        run = Run(source_id=source.id, state="running", discovered=1)
        doc = Document(source_id=source.id, url=url)
        s.add_all([run, doc])
    return source.id, run.id, doc.id


def batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


async def count(platform: Embedded, model: Any) -> int:
    async with platform.runtime.db.reader() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_stage_invalid_record_is_reported_not_raised(
    platform: Embedded, demo_site: str
) -> None:
    source_id, run_id, doc_id = await seed(platform, demo_site + PAGE)
    good = message_record(
        "extraction",
        {"run_id": run_id, "source_id": source_id, "document_id": doc_id, "url": demo_site + PAGE},
    )
    not_json = {**message_record("extraction", {}), "body": "{not json"}
    wrong_shape = message_record("extraction", {"run_id": run_id, "surprise": 1})
    ctx = LambdaContext("extraction", timeout_s=30)
    result = await asyncio.to_thread(extraction.handler, batch(not_json, good, wrong_shape), ctx)
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": not_json["messageId"]},
            {"itemIdentifier": wrong_shape["messageId"]},
        ]
    }
    async with platform.runtime.db.reader() as s:
        status = await s.scalar(select(StageResult.status).where(StageResult.document_id == doc_id))
    assert status == "succeeded"


async def test_stage_message_delivered_twice_changes_nothing(
    platform: Embedded, demo_site: str
) -> None:
    source_id, run_id, doc_id = await seed(platform, demo_site + PAGE)
    body = {"run_id": run_id, "source_id": source_id, "document_id": doc_id}
    record = message_record("intelligence", body)
    async with platform.runtime.db.writer() as s:  # as extraction would have left it
        doc = await s.get(Document, doc_id)
        assert doc is not None
        doc.text = "Wind power is wonderful news. " * 40
        doc.language = "en"
    ctx = LambdaContext("intelligence", timeout_s=60)
    first = await asyncio.to_thread(intelligence.handler, batch(record), ctx)
    async with platform.runtime.db.reader() as s:
        insight_before = (await s.scalars(select(Insight))).one()
        outbox_before = await s.scalar(select(func.count()).select_from(Outbox))
    second = await asyncio.to_thread(intelligence.handler, batch(record), ctx)
    assert first == second == {"batchItemFailures": []}
    async with platform.runtime.db.reader() as s:
        insight_after = (await s.scalars(select(Insight))).one()
        outbox_after = await s.scalar(select(func.count()).select_from(Outbox))
        run = await s.get(Run, run_id)
    assert insight_after.id == insight_before.id
    assert insight_after.created_at == insight_before.created_at
    assert outbox_after == outbox_before
    assert await count(platform, StageResult) == 1
    assert run is not None
    assert run.state == "succeeded"  # the one document is final: the run ended, once


async def test_stage_skips_messages_of_cancelled_runs(platform: Embedded, demo_site: str) -> None:
    source_id, run_id, doc_id = await seed(platform, demo_site + PAGE)
    async with platform.runtime.db.writer() as s:
        run = await s.get(Run, run_id)
        assert run is not None
        run.state = "cancelled"
    record = message_record(
        "extraction",
        {"run_id": run_id, "source_id": source_id, "document_id": doc_id, "url": demo_site + PAGE},
    )
    result = await extraction.handler.process(batch(record), LambdaContext("extraction"))
    assert result == {"batchItemFailures": []}
    assert await count(platform, StageResult) == 0


async def test_stage_analytics_runs_on_scheduled_event(platform: Embedded, demo_site: str) -> None:
    source_id, run_id, doc_id = await seed(platform, demo_site + PAGE)
    async with platform.runtime.db.writer() as s:
        doc = await s.get(Document, doc_id)
        assert doc is not None
        doc.published = "2026-11-02"
        s.add(
            Insight(
                run_id=run_id,
                document_id=doc_id,
                summary="s",
                keywords=["wind"],
                sentiment=0.5,
                sentiment_label="positive",
                language="en",
                provider="local",
                model="m",
            )
        )
    event = scheduled_event(
        "arn:aws:events:us-east-1:000000000000:rule/quarry-analytics",
        datetime(2026, 11, 28, 12, tzinfo=UTC),
    )
    ctx = LambdaContext("analytics", timeout_s=60)
    result = await asyncio.to_thread(analytics.handler, json.loads(json.dumps(event)), ctx)
    assert result == {"batchItemFailures": []}
    async with platform.runtime.db.reader() as s:
        rollup = (await s.scalars(select(Rollup))).one()
    assert (rollup.source_id, str(rollup.day), rollup.documents) == (source_id, "2026-11-02", 1)
    assert rollup.top_keywords == [["wind", 1]]

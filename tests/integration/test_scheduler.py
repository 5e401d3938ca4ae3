"""Schedules fire at their due times, exactly once however many schedulers run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from emulator.platform import Embedded
from emulator.scheduler import Target, tick
from emulator.table import Function
from shared.db.models import Run, Source
from shared.handlers.context import LambdaContext

EXPR = "cron(0/30 8-9 ? * MON-FRI *)"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[dict[str, Any], LambdaContext]] = []

    async def process(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.events.append((event, context))
        return {"batchItemFailures": []}


def target(recorder: Recorder, expression: str = EXPR) -> Target:
    fn = Function(
        "analytics", "functions/stages/analytics.handler", 60, 512, schedules=(expression,)
    )
    return Target(fn, expression, recorder)


async def test_scheduler_fires_each_due_time_with_eventbridge_shape(platform: Embedded) -> None:
    recorder = Recorder()
    after = datetime(2026, 11, 30, 7, 59, 30, tzinfo=UTC)  # a Monday
    now = datetime(2026, 11, 30, 9, 10, tzinfo=UTC)
    fired = await tick(platform.runtime, [target(recorder)], after, now, "s1")
    assert fired == [
        "analytics@2026-11-30T08:00:00Z",
        "analytics@2026-11-30T08:30:00Z",
        "analytics@2026-11-30T09:00:00Z",
    ]
    times = [e["time"] for e, _ in recorder.events]
    assert times == ["2026-11-30T08:00:00Z", "2026-11-30T08:30:00Z", "2026-11-30T09:00:00Z"]
    event, context = recorder.events[0]
    assert event["source"] == "aws.events"
    assert event["detail-type"] == "Scheduled Event"
    assert event["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/quarry-analytics"]
    assert context.function_name == "analytics"
    later = await tick(platform.runtime, [target(recorder)], now, now + timedelta(minutes=25), "s1")
    assert later == ["analytics@2026-11-30T09:30:00Z"]


async def test_scheduler_two_schedulers_fire_once(platform: Embedded) -> None:
    recorder = Recorder()
    after = datetime(2026, 11, 30, 7, 59, tzinfo=UTC)
    now = datetime(2026, 11, 30, 8, 1, tzinfo=UTC)
    one, two = await asyncio.gather(
        tick(platform.runtime, [target(recorder)], after, now, "scheduler-a"),
        tick(platform.runtime, [target(recorder)], after, now, "scheduler-b"),
    )
    assert sorted(one + two) == ["analytics@2026-11-30T08:00:00Z"]
    assert len(recorder.events) == 1


async def test_scheduler_starts_source_runs_exactly_once(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    created = await client.post(
        "/api/v1/sources",
        json={
            "name": "hourly",
            "kind": "urls",
            "urls": ["https://example.org/a"],
            "schedule": "rate(5 minutes)",
        },
    )
    assert created.status_code == 201
    async with platform.runtime.db.reader() as s:
        source = await s.get(Source, created.json()["id"])
        assert source is not None
        anchor = source.created_at
    window = (anchor, anchor + timedelta(minutes=11))
    one, two = await asyncio.gather(
        tick(platform.runtime, [], *window, "scheduler-a"),
        tick(platform.runtime, [], *window, "scheduler-b"),
    )
    assert len(one + two) == 2  # fires at +5 and +10 minutes, once each
    async with platform.runtime.db.reader() as s:
        runs = (await s.scalars(select(Run).where(Run.source_id == source.id))).all()
        source = await s.get(Source, created.json()["id"])
    assert sorted(r.trigger for r in runs) == ["schedule", "schedule"]
    assert source is not None
    assert source.next_run_at == anchor + timedelta(minutes=15)


async def test_scheduler_rejects_invalid_source_schedule(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/sources",
        json={
            "name": "bad",
            "kind": "urls",
            "urls": ["https://example.org/a"],
            "schedule": "rate(1 minutes)",
        },
    )
    assert response.status_code == 422
    assert "rate(1 minutes)" in response.json()["detail"]

"""Scheduled events reach their function at the times the expression gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.scheduler import deliver
from shared.runtime.context import LambdaContext


class Clock:
    """A clock that moves only when the scheduler sleeps."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[dict[str, Any], LambdaContext]] = []

    async def process(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.events.append((event, context))
        return {"batchItemFailures": []}


async def test_scheduler_cron_fires_at_each_due_time_with_eventbridge_shape() -> None:
    clock = Clock(datetime(2026, 11, 30, 7, 59, 30, tzinfo=UTC))  # a Monday
    target = Recorder()
    await deliver(
        target,
        "analytics",
        "cron(0/30 8-9 ? * MON-FRI *)",
        60,
        clock=clock,
        sleep=clock.sleep,
        fires=5,
    )
    times = [event["time"] for event, _ in target.events]
    assert times == [
        "2026-11-30T08:00:00Z",
        "2026-11-30T08:30:00Z",
        "2026-11-30T09:00:00Z",
        "2026-11-30T09:30:00Z",
        "2026-12-01T08:00:00Z",
    ]
    event, context = target.events[0]
    assert event["source"] == "aws.events"
    assert event["detail-type"] == "Scheduled Event"
    assert event["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/quarry-analytics"]
    assert context.function_name == "analytics"
    assert clock.slept[0] == 30.0


async def test_scheduler_rate_is_anchored_at_start() -> None:
    start = datetime(2026, 11, 28, 12, 0, 7, tzinfo=UTC)
    clock = Clock(start)
    target = Recorder()
    await deliver(target, "analytics", "rate(1 hour)", 60, clock=clock, sleep=clock.sleep, fires=3)
    assert [e["time"] for e, _ in target.events] == [
        "2026-11-28T13:00:07Z",
        "2026-11-28T14:00:07Z",
        "2026-11-28T15:00:07Z",
    ]


async def test_scheduler_survives_a_failing_invocation() -> None:
    clock = Clock(datetime(2026, 11, 28, tzinfo=UTC))
    calls: list[str] = []

    class Failing:
        async def process(self, event: dict[str, Any], context: LambdaContext) -> None:
            calls.append(event["time"])
            raise RuntimeError("boom")

    await deliver(
        Failing(), "analytics", "rate(5 minutes)", 60, clock=clock, sleep=clock.sleep, fires=2
    )
    assert len(calls) == 2

"""EventBridge schedule expressions: parsing, rejection messages, fire times and the event shape."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.lambda_events.schedule import scheduled_event
from shared.schedule_expressions import EPOCH, RateSchedule, ScheduleError, parse_schedule


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def fires(expr: str, after: datetime, count: int) -> list[datetime]:
    schedule, out = parse_schedule(expr), []
    for _ in range(count):
        after = schedule.next_after(after)
        out.append(after)
    return out


@pytest.mark.parametrize(
    ("expr", "period"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(12 hours)", timedelta(hours=12)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(7 days)", timedelta(days=7)),
    ],
)
def test_parse_schedule_accepts_rate_forms(expr: str, period: timedelta) -> None:
    assert parse_schedule(expr) == RateSchedule(expr, period, EPOCH)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            "rate(1 minutes)",
            "invalid schedule expression 'rate(1 minutes)': unit: 'minutes' does not fit "
            "the value 1; accepted: minute, hour, day",
        ),
        (
            "rate(5 minute)",
            "invalid schedule expression 'rate(5 minute)': unit: 'minute' does not fit "
            "the value 5; accepted: minutes, hours, days",
        ),
        (
            "rate(0 minutes)",
            "invalid schedule expression 'rate(0 minutes)': value: '0' is not a positive "
            "integer; accepted: 1, 2, 3, ...",
        ),
        (
            "rate(-5 minutes)",
            "invalid schedule expression 'rate(-5 minutes)': value: '-5' is not a positive "
            "integer; accepted: 1, 2, 3, ...",
        ),
        (
            "rate(2 weeks)",
            "invalid schedule expression 'rate(2 weeks)': unit: 'weeks' does not fit "
            "the value 2; accepted: minutes, hours, days",
        ),
        (
            "every 5 minutes",
            "invalid schedule expression 'every 5 minutes': expression: not a rate or cron "
            "expression; accepted: rate(value unit) or cron(6 fields)",
        ),
    ],
)
def test_parse_schedule_rejects_bad_rates(expr: str, message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(expr)
    assert str(info.value) == message
    assert info.value.expression == expr


@pytest.mark.parametrize(
    ("expr", "field", "message"),
    [
        (
            "cron(0 10 * * ?)",
            "fields",
            "invalid schedule expression 'cron(0 10 * * ?)': fields: found 5; accepted: "
            "6 fields: Minutes Hours Day-of-month Month Day-of-week Year",
        ),
        (
            "cron(0 10 ? * ? *)",
            "Day-of-month/Day-of-week",
            "invalid schedule expression 'cron(0 10 ? * ? *)': Day-of-month/Day-of-week: "
            "both are '?'; accepted: '?' in exactly one",
        ),
        (
            "cron(0 10 * * MON *)",
            "Day-of-month/Day-of-week",
            "invalid schedule expression 'cron(0 10 * * MON *)': Day-of-month/Day-of-week: "
            "neither is '?'; accepted: '?' in exactly one",
        ),
        (
            "cron(60 10 * * ? *)",
            "Minutes",
            "invalid schedule expression 'cron(60 10 * * ? *)': Minutes field '60': 60 is out "
            "of range; accepted: 0-59 with the wildcards , - * /",
        ),
        (
            "cron(0 24 * * ? *)",
            "Hours",
            "invalid schedule expression 'cron(0 24 * * ? *)': Hours field '24': 24 is out "
            "of range; accepted: 0-23 with the wildcards , - * /",
        ),
        (
            "cron(0 0 0 * ? *)",
            "Day-of-month",
            "invalid schedule expression 'cron(0 0 0 * ? *)': Day-of-month field '0': 0 is out "
            "of range; accepted: 1-31 with the wildcards , - * ? / L W",
        ),
        (
            "cron(0 0 1 JAN-FOO ? *)",
            "Month",
            "invalid schedule expression 'cron(0 0 1 JAN-FOO ? *)': Month field 'JAN-FOO': "
            "'FOO' is not a value; accepted: 1-12 or JAN-DEC with the wildcards , - * /",
        ),
        (
            "cron(0 0 ? * 0 *)",
            "Day-of-week",
            "invalid schedule expression 'cron(0 0 ? * 0 *)': Day-of-week field '0': 0 is out "
            "of range; accepted: 1-7 (1=SUN) or SUN-SAT with the wildcards , - * ? L #",
        ),
        (
            "cron(0 0 ? * MON/2 *)",
            "Day-of-week",
            "invalid schedule expression 'cron(0 0 ? * MON/2 *)': Day-of-week field 'MON/2': "
            "'/' is not allowed in this field; accepted: 1-7 (1=SUN) or SUN-SAT with the "
            "wildcards , - * ? L #",
        ),
        (
            "cron(0 0 ? * 3#6 *)",
            "Day-of-week",
            "invalid schedule expression 'cron(0 0 ? * 3#6 *)': Day-of-week field '3#6': the "
            "occurrence after '#' must be 1-5; accepted: 1-7 (1=SUN) or SUN-SAT with the "
            "wildcards , - * ? L #",
        ),
        (
            "cron(0 0 1 1 ? 1969)",
            "Year",
            "invalid schedule expression 'cron(0 0 1 1 ? 1969)': Year field '1969': 1969 is out "
            "of range; accepted: 1970-2199 with the wildcards , - * /",
        ),
        (
            "cron(0 17-9 * * ? *)",
            "Hours",
            "invalid schedule expression 'cron(0 17-9 * * ? *)': Hours field '17-9': range "
            "'17-9' runs backwards; accepted: 0-23 with the wildcards , - * /",
        ),
        (
            "cron(0/0 * * * ? *)",
            "Minutes",
            "invalid schedule expression 'cron(0/0 * * * ? *)': Minutes field '0/0': step '0' "
            "is not a positive integer; accepted: 0-59 with the wildcards , - * /",
        ),
        (
            "cron(? 0 * * ? *)",
            "Minutes",
            "invalid schedule expression 'cron(? 0 * * ? *)': Minutes field '?': '?' is not a "
            "value; accepted: 0-59 with the wildcards , - * /",
        ),
    ],
)
def test_parse_schedule_rejects_bad_crons(expr: str, field: str, message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(expr)
    assert str(info.value) == message
    assert (info.value.expression, info.value.field) == (expr, field)


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        # the examples table of the EventBridge cron reference; 2024-01-01 is a Monday
        (
            "cron(0 10 * * ? *)",
            utc(2024, 1, 1, 9, 59, 59),
            [utc(2024, 1, 1, 10), utc(2024, 1, 2, 10)],
        ),
        (
            "cron(15 12 * * ? *)",
            utc(2024, 1, 1, 12, 15),
            [utc(2024, 1, 2, 12, 15), utc(2024, 1, 3, 12, 15)],
        ),
        (
            "cron(0 18 ? * MON-FRI *)",
            utc(2024, 1, 5, 18),
            [utc(2024, 1, 8, 18), utc(2024, 1, 9, 18)],
        ),
        ("cron(0 8 1 * ? *)", utc(2024, 12, 15), [utc(2025, 1, 1, 8), utc(2025, 2, 1, 8)]),
        (
            "cron(0/15 * * * ? *)",
            utc(2024, 12, 31, 23, 30),
            [utc(2024, 12, 31, 23, 45), utc(2025, 1, 1), utc(2025, 1, 1, 0, 15)],
        ),
        (
            "cron(0/10 * ? * MON-FRI *)",
            utc(2024, 1, 5, 23, 45),
            [utc(2024, 1, 5, 23, 50), utc(2024, 1, 8), utc(2024, 1, 8, 0, 10)],
        ),
        (
            "cron(0/5 8-17 ? * MON-FRI *)",
            utc(2024, 1, 1, 17, 50),
            [utc(2024, 1, 1, 17, 55), utc(2024, 1, 2, 8), utc(2024, 1, 2, 8, 5)],
        ),
        (
            "cron(0 9 ? * 2#1 *)",
            utc(2024, 1, 1, 9),
            [utc(2024, 2, 5, 9), utc(2024, 3, 4, 9), utc(2024, 4, 1, 9)],
        ),
        (
            "cron(0 0 L * ? *)",
            utc(2024, 1, 31),
            [utc(2024, 2, 29), utc(2024, 3, 31), utc(2024, 4, 30)],
        ),
        ("cron(0 0 L 2 ? *)", utc(2024, 3, 1), [utc(2025, 2, 28), utc(2026, 2, 28)]),
        # 15 June 2024 is a Saturday, 15 September 2024 a Sunday
        ("cron(0 0 15W * ? *)", utc(2024, 5, 20), [utc(2024, 6, 14), utc(2024, 7, 15)]),
        ("cron(0 0 15W SEP ? *)", utc(2024, 1, 1), [utc(2024, 9, 16), utc(2025, 9, 15)]),
        # W never leaves the month: 1 June 2024 is a Saturday, 30 June a Sunday
        ("cron(0 0 1W JUN ? 2024)", utc(2024, 1, 1), [utc(2024, 6, 3)]),
        ("cron(0 0 30W JUN ? 2024)", utc(2024, 1, 1), [utc(2024, 6, 28)]),
        ("cron(0 0 31W * ? *)", utc(2024, 1, 31), [utc(2024, 3, 29), utc(2024, 5, 31)]),
        # day-of-week counts 1=SUN..7=SAT: 6L is the last Friday, 3#2 the second Tuesday
        ("cron(0 12 ? * 6L *)", utc(2024, 1, 1), [utc(2024, 1, 26, 12), utc(2024, 2, 23, 12)]),
        ("cron(0 12 ? * 3#2 *)", utc(2024, 1, 1), [utc(2024, 1, 9, 12), utc(2024, 2, 13, 12)]),
        ("cron(0 12 ? * tue#5 *)", utc(2024, 1, 1), [utc(2024, 1, 30, 12), utc(2024, 4, 30, 12)]),
        ("cron(0 12 ? * L *)", utc(2024, 1, 1), [utc(2024, 1, 6, 12), utc(2024, 1, 13, 12)]),
        ("cron(0 12 ? * SUN,7 *)", utc(2024, 1, 1), [utc(2024, 1, 6, 12), utc(2024, 1, 7, 12)]),
        (
            "cron(5-40/10 1,3 1-2 jan-feb ? 2025)",
            utc(2025, 1, 2, 3, 25),
            [utc(2025, 1, 2, 3, 35), utc(2025, 2, 1, 1, 5), utc(2025, 2, 1, 1, 15)],
        ),
        ("cron(30 6 29 FEB ? *)", utc(2024, 3, 1), [utc(2028, 2, 29, 6, 30)]),
        ("cron(*/20 0 1 1 ? */100)", utc(2024, 1, 1), [utc(2070, 1, 1), utc(2070, 1, 1, 0, 20)]),
    ],
)
def test_cron_next_after_walks_hand_computed_times(
    expr: str, after: datetime, expected: list[datetime]
) -> None:
    assert fires(expr, after, len(expected)) == expected


def test_cron_next_after_is_strictly_after_and_drops_seconds() -> None:
    schedule = parse_schedule("cron(0 10 * * ? *)")
    assert schedule.next_after(utc(2024, 1, 1, 10)) == utc(2024, 1, 2, 10)
    assert schedule.next_after(utc(2024, 1, 1, 10, 0, 0)) == utc(2024, 1, 2, 10)
    assert schedule.next_after(datetime(2024, 1, 1, 9, 59, 59, 999_999, UTC)) == utc(2024, 1, 1, 10)


def test_next_after_answers_in_utc_for_other_offsets() -> None:
    berlin_noon = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=1)))
    fire = parse_schedule("cron(0 12 * * ? *)").next_after(berlin_noon)
    assert (fire, fire.tzinfo) == (utc(2024, 1, 1, 12), UTC)


def test_next_after_rejects_naive_times() -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        parse_schedule("rate(5 minutes)").next_after(datetime(2024, 1, 1))


def test_cron_next_after_past_its_last_year_raises() -> None:
    schedule = parse_schedule("cron(0 0 1 1 ? 2025)")
    assert schedule.next_after(utc(2024, 6, 1)) == utc(2025, 1, 1)
    with pytest.raises(ScheduleError, match="never fires again"):
        schedule.next_after(utc(2025, 1, 1))


def test_cron_that_names_a_missing_day_never_fires() -> None:
    with pytest.raises(ScheduleError, match="never fires again"):
        parse_schedule("cron(0 0 30 2 ? *)").next_after(utc(2024, 1, 1))


def test_rate_next_after_counts_from_the_anchor() -> None:
    schedule = parse_schedule("rate(5 minutes)", anchor=utc(2024, 1, 1, 0, 2))
    assert schedule.next_after(utc(2023, 12, 31)) == utc(2024, 1, 1, 0, 2)
    assert schedule.next_after(utc(2024, 1, 1, 0, 2)) == utc(2024, 1, 1, 0, 7)
    assert schedule.next_after(utc(2024, 1, 1, 0, 9, 30)) == utc(2024, 1, 1, 0, 12)
    assert schedule.next_after(utc(2024, 1, 1, 0, 12)) == utc(2024, 1, 1, 0, 17)


def test_rate_next_after_defaults_to_the_epoch_anchor() -> None:
    assert fires("rate(1 hour)", utc(2024, 1, 1, 10, 30), 2) == [
        utc(2024, 1, 1, 11),
        utc(2024, 1, 1, 12),
    ]
    # 2024-01-01 is day 19723 after the epoch, so even days start on the 2nd
    assert fires("rate(2 days)", utc(2024, 1, 1, 10), 2) == [utc(2024, 1, 2), utc(2024, 1, 4)]


def test_scheduled_event_matches_what_eventbridge_delivers() -> None:
    arn = "arn:aws:events:eu-west-1:111122223333:rule/nightly-crawl"
    event = scheduled_event(
        arn,
        datetime(2024, 3, 5, 6, 30, 15, 123_456, UTC),
        account="111122223333",
        region="eu-west-1",
        event_id="53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    )
    assert event == {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "111122223333",
        "time": "2024-03-05T06:30:15Z",
        "region": "eu-west-1",
        "resources": [arn],
        "detail": {},
    }


def test_scheduled_event_defaults_and_fresh_ids() -> None:
    arn = "arn:aws:events:us-east-1:123456789012:rule/every-5"
    first = scheduled_event(arn, utc(2024, 1, 1))
    second = scheduled_event(arn, utc(2024, 1, 1))
    assert (first["account"], first["region"], first["time"]) == (
        "123456789012",
        "us-east-1",
        "2024-01-01T00:00:00Z",
    )
    assert isinstance(first["id"], str)
    assert len(first["id"]) == 36
    assert first["id"] != second["id"]

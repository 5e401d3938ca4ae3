"""EventBridge schedule expressions: parse rate()/cron() exactly as AWS does and find fire times."""

import calendar
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_RATE = re.compile(r"rate\((?P<value>\S+) +(?P<unit>\S+)\)")
_CRON = re.compile(r"cron\((?P<fields>.*)\)")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}


class ScheduleError(ValueError):
    """A schedule expression EventBridge would reject; says where, what and what is accepted."""

    def __init__(self, expr: str, field: str, problem: str, accepted: str, text: str = "") -> None:
        self.expression, self.field = expr, field
        where = f"{field} field {text!r}" if text else field
        super().__init__(
            f"invalid schedule expression {expr!r}: {where}: {problem}; accepted: {accepted}"
        )


class Schedule(ABC):
    """A parsed schedule expression that can say when it next fires."""

    expression: str

    @abstractmethod
    def next_after(self, t: datetime) -> datetime:
        """The first fire time strictly after the aware datetime t, in UTC."""


@dataclass(frozen=True)
class RateSchedule(Schedule):
    """`rate(value unit)`: fires at anchor + k * period for every k >= 0."""

    expression: str
    period: timedelta
    anchor: datetime = EPOCH

    def next_after(self, t: datetime) -> datetime:
        """Next anchor + k * period after t; the anchor stands in for the rule's creation time."""
        t = _utc(t)
        anchor = _utc(self.anchor)
        if t < anchor:
            return anchor
        return anchor + ((t - anchor) // self.period + 1) * self.period


@dataclass(frozen=True)
class DayRule:
    """Which days of a month a day-of-month or day-of-week field selects.

    kind is one of "any" (the field is `?`), "dom" (values are days of month), "last" (`L`),
    "weekday" (`nW`, n in values), "dow" (values are 1=SUN..7=SAT), "last_dow" (`nL`) or
    "nth_dow" (`d#n`, d in values).
    """

    kind: str
    values: frozenset[int] = frozenset()
    n: int = 0

    def days(self, year: int, month: int) -> list[int]:
        """The selected days of year-month, ascending; empty when none exist that month."""
        first, ndays = calendar.monthrange(year, month)
        # monthrange counts MON=0; EventBridge counts SUN=1 .. SAT=7
        dows = {d: (first + d) % 7 + 1 for d in range(1, ndays + 1)}
        if self.kind == "any":
            return list(dows)
        if self.kind == "dom":
            return [d for d in dows if d in self.values]
        if self.kind == "last":
            return [ndays]
        if self.kind == "weekday":
            return _nearest_weekday(min(self.values), ndays, dows)
        matching = [d for d in dows if dows[d] in self.values]
        if self.kind == "dow":
            return matching
        if self.kind == "last_dow":
            return matching[-1:]
        return matching[self.n - 1 : self.n]


def _nearest_weekday(day: int, ndays: int, dows: dict[int, int]) -> list[int]:
    """The weekday nearest `day` without leaving the month (Quartz `W` semantics)."""
    if day > ndays:
        return []
    if dows[day] == 7:  # Saturday: Friday before, or Monday after when the 1st
        return [day + 2 if day == 1 else day - 1]
    if dows[day] == 1:  # Sunday: Monday after, or Friday before when the last day
        return [day - 2 if day == ndays else day + 1]
    return [day]


@dataclass(frozen=True)
class CronSchedule(Schedule):
    """`cron(Minutes Hours Day-of-month Month Day-of-week Year)`, evaluated in UTC."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: DayRule
    months: frozenset[int]
    day_of_week: DayRule
    years: frozenset[int]

    def next_after(self, t: datetime) -> datetime:
        """Walks years, months, days, hours, minutes in order; ScheduleError if none is left."""
        start = _utc(t).replace(second=0, microsecond=0) + timedelta(minutes=1)
        for year in sorted(y for y in self.years if y >= start.year):
            for month in sorted(self.months):
                if (year, month) < (start.year, start.month):
                    continue
                dom = self.day_of_month.days(year, month)
                dow = set(self.day_of_week.days(year, month))
                for day in (d for d in dom if d in dow):
                    if (year, month, day) < (start.year, start.month, start.day):
                        continue
                    for hour in sorted(self.hours):
                        for minute in sorted(self.minutes):
                            fire = datetime(year, month, day, hour, minute, tzinfo=UTC)
                            if fire >= start:
                                return fire
        raise ScheduleError(self.expression, "schedule", "never fires again", "years up to 2199")


@dataclass(frozen=True)
class _Field:
    """How one cron field is spelled: its name, bounds, names and permitted wildcards."""

    name: str
    low: int
    high: int
    names: dict[str, int]
    accepted: str


_FIELDS = (
    _Field("Minutes", 0, 59, {}, "0-59 with the wildcards , - * /"),
    _Field("Hours", 0, 23, {}, "0-23 with the wildcards , - * /"),
    _Field("Day-of-month", 1, 31, {}, "1-31 with the wildcards , - * ? / L W"),
    _Field("Month", 1, 12, _MONTHS, "1-12 or JAN-DEC with the wildcards , - * /"),
    _Field("Day-of-week", 1, 7, _DAYS, "1-7 (1=SUN) or SUN-SAT with the wildcards , - * ? L #"),
    _Field("Year", 1970, 2199, {}, "1970-2199 with the wildcards , - * /"),
)


def parse_schedule(expr: str, *, anchor: datetime = EPOCH) -> Schedule:
    """Parse a `rate(...)` or `cron(...)` expression, rejecting whatever EventBridge rejects.

    anchor is where a rate schedule starts counting (the rule's creation time in AWS).
    """
    if m := _RATE.fullmatch(expr):
        return _parse_rate(expr, m["value"], m["unit"], anchor)
    if m := _CRON.fullmatch(expr):
        return _parse_cron(expr, m["fields"])
    raise ScheduleError(
        expr, "expression", "not a rate or cron expression", "rate(value unit) or cron(6 fields)"
    )


def _parse_rate(expr: str, value: str, unit: str, anchor: datetime) -> RateSchedule:
    if not _is_number(value) or int(value) < 1:
        raise ScheduleError(expr, "value", f"{value!r} is not a positive integer", "1, 2, 3, ...")
    n = int(value)
    singular = unit.removesuffix("s")
    if singular not in _UNITS or (unit == singular) != (n == 1):
        accepted = "minute, hour, day" if n == 1 else "minutes, hours, days"
        raise ScheduleError(expr, "unit", f"{unit!r} does not fit the value {n}", accepted)
    return RateSchedule(expr, timedelta(seconds=n * _UNITS[singular]), _utc(anchor))


def _parse_cron(expr: str, body: str) -> CronSchedule:
    parts = body.split()
    if len(parts) != len(_FIELDS):
        fields = "6 fields: Minutes Hours Day-of-month Month Day-of-week Year"
        raise ScheduleError(expr, "fields", f"found {len(parts)}", fields)
    minute, hour, dom, month, dow, year = parts
    if (dom == "?") == (dow == "?"):
        problem = "both are '?'" if dom == "?" else "neither is '?'"
        raise ScheduleError(expr, "Day-of-month/Day-of-week", problem, "'?' in exactly one")
    mi, ho, dm, mo, dw, ye = _FIELDS
    return CronSchedule(
        expr,
        minutes=_parse_values(expr, mi, minute),
        hours=_parse_values(expr, ho, hour),
        day_of_month=_parse_dom(expr, dm, dom),
        months=_parse_values(expr, mo, month),
        day_of_week=_parse_dow(expr, dw, dow),
        years=_parse_values(expr, ye, year),
    )


def _parse_dom(expr: str, field: _Field, text: str) -> DayRule:
    if text == "?":
        return DayRule("any")
    if text == "L":
        return DayRule("last")
    if text.endswith("W"):
        return DayRule("weekday", frozenset({_value(expr, field, text[:-1], text)}))
    return DayRule("dom", _parse_values(expr, field, text))


def _parse_dow(expr: str, field: _Field, text: str) -> DayRule:
    if text == "?":
        return DayRule("any")
    if text == "L":  # the last day of the week: Saturday
        return DayRule("dow", frozenset({7}))
    if text.endswith("L"):
        return DayRule("last_dow", frozenset({_value(expr, field, text[:-1], text)}))
    if "#" in text:
        day, _, nth = text.partition("#")
        if not _is_number(nth) or not 1 <= int(nth) <= 5:
            raise _bad(expr, field, text, "the occurrence after '#' must be 1-5")
        return DayRule("nth_dow", frozenset({_value(expr, field, day, text)}), int(nth))
    return DayRule("dow", _parse_values(expr, field, text))


def _parse_values(expr: str, field: _Field, text: str) -> frozenset[int]:
    """Expand a comma list of `*`, `a`, `a-b`, each optionally stepped with `/n`."""
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        if slash and field.name == "Day-of-week":
            raise _bad(expr, field, text, "'/' is not allowed in this field")
        step = 1
        if slash:
            if not _is_number(step_text) or int(step_text) < 1:
                raise _bad(expr, field, text, f"step {step_text!r} is not a positive integer")
            step = int(step_text)
        if base == "*":
            low, high = field.low, field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _value(expr, field, first, text), _value(expr, field, last, text)
            if low > high:
                raise _bad(expr, field, text, f"range {base!r} runs backwards")
        else:
            low = _value(expr, field, base, text)
            high = field.high if slash else low
        values.update(range(low, high + 1, step))
    return frozenset(values)


def _value(expr: str, field: _Field, token: str, text: str) -> int:
    """One number or name of a field, checked against the field's bounds."""
    if token.upper() in field.names:
        return field.names[token.upper()]
    if not _is_number(token):
        raise _bad(expr, field, text, f"{token!r} is not a value")
    n = int(token)
    if not field.low <= n <= field.high:
        raise _bad(expr, field, text, f"{n} is out of range")
    return n


def _bad(expr: str, field: _Field, text: str, problem: str) -> ScheduleError:
    return ScheduleError(expr, field.name, problem, field.accepted, text)


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"schedule times must be timezone-aware, got naive {t.isoformat()}")
    return t.astimezone(UTC)

"""Finders for typed values in free text: emails, URLs, phone numbers, dates, numbers, prices."""

import re
from datetime import date

EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})*\.[^\W\d_]{2,24}")
URL = re.compile(r"\bhttps?://[^\s<>\"'()\[\]]{1,2000}[^\s<>\"'()\[\].,;:!?]")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d ()/.-]{6,18}\d(?!\w)")
# 1,234.56 / 1.234,56 / 1 234 / 12.5 / -3 ; the parts are told apart in to_number().
NUMBER = re.compile(
    r"(?<![\w.,])[-−]?\d{1,3}(?:[ ,.\u00a0\u202f]\d{3})+(?:[.,]\d+)?(?![\w])"
    r"|(?<![\w.,])[-−]?\d+(?:[.,]\d+)?(?![\w])"
)
_CURRENCY = r"(?:€|\$|£|¥|EUR|USD|GBP|CHF|euros?|dollars?|pounds?|dólares|libras)"
PRICE = re.compile(
    rf"(?:{_CURRENCY}\s?(?P<a>{NUMBER.pattern}))|(?:(?P<b>{NUMBER.pattern})\s?{_CURRENCY})",
    re.IGNORECASE,
)

MONTHS: dict[str, int] = {}
for _names in (
    "january february march april may june july august september october november december",
    "januar februar märz april mai juni juli august september oktober november dezember",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
):
    for _number, _name in enumerate(_names.split(), start=1):
        MONTHS.setdefault(_name, _number)
for _name, _number in list(MONTHS.items()):
    if len(_name) > 4:
        MONTHS.setdefault(_name[:3], _number)
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))

_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:\.|er|st|nd|rd|th)?\s+(?:de\s+)?({_MONTH})\.?\s+(?:de\s+|del\s+)?(\d{{4}})\b",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE
)


def find_dates(text: str) -> list[tuple[int, date]]:
    """Calendar dates written in `text` (ISO, 12.03.2024, "12 March 2024", "March 12, 2024",
    "12 de marzo de 2024"), as (position, date), in order. Dates without a year are not
    dates one could store, so they are left out; so are impossible ones (31 February)."""
    found: list[tuple[int, date]] = []
    for m in _ISO.finditer(text):
        _add(found, m.start(), int(m[1]), int(m[2]), int(m[3]))
    for m in _NUMERIC.finditer(text):
        first, second = int(m[1]), int(m[2])
        # Day first, as in de/fr/es and British English, unless that cannot be a date.
        day, month = (second, first) if second > 12 >= first else (first, second)
        _add(found, m.start(), int(m[3]), month, day)
    for m in _DAY_MONTH.finditer(text):
        _add(found, m.start(), int(m[3]), MONTHS[m[2].lower()], int(m[1]))
    for m in _MONTH_DAY.finditer(text):
        _add(found, m.start(), int(m[3]), MONTHS[m[1].lower()], int(m[2]))
    return sorted(found)


def _add(found: list[tuple[int, date]], at: int, year: int, month: int, day: int) -> None:
    try:
        value = date(year, month, day)
    except ValueError:
        return
    if all(at != pos for pos, _ in found):
        found.append((at, value))


def to_number(raw: str) -> float | None:
    """Read a number written in any of the four languages' conventions; None if it is not one.

    The last of "," and "." is the decimal mark when 1-2 digits or more than 3 follow it;
    exactly three digits after a lone separator are read as thousands ("1,200", "1.200").
    """
    s = raw.strip().replace("−", "-").replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not s:
        return None
    marks = [i for i, c in enumerate(s) if c in ",."]
    if marks:
        last = marks[-1]
        tail = len(s) - last - 1
        several_kinds = len({s[i] for i in marks}) > 1
        if several_kinds or tail != 3 or (len(marks) == 1 and s[0] == "0"):
            head = s[:last].replace(",", "").replace(".", "")
            s = f"{head}.{s[last + 1 :]}"
        else:
            s = s.replace(",", "").replace(".", "")
    try:
        return float(s)
    except ValueError:
        return None


def find_numbers(text: str) -> list[tuple[int, float]]:
    """Numbers in `text` as (position, value), in order."""
    out: list[tuple[int, float]] = []
    for m in NUMBER.finditer(text):
        value = to_number(m.group())
        if value is not None:
            out.append((m.start(), value))
    return out


def find_prices(text: str) -> list[tuple[int, float]]:
    """Amounts of money ("€12.50", "1.199 dollars", "16 euros") as (position, value)."""
    out: list[tuple[int, float]] = []
    for m in PRICE.finditer(text):
        value = to_number(m["a"] or m["b"])
        if value is not None:
            out.append((m.start(), value))
    return out

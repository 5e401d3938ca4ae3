"""Trend detection: terms whose share of documents rose in a window against their own past."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

MIN_COUNT = 3
# Pseudo-documents of prior: a term's baseline rate is pulled towards its overall rate by
# this many documents, so a term with no history (or a source with none) cannot show an
# enormous lift from one lucky day.
PRIOR_DOCUMENTS = 5.0


@dataclass(frozen=True)
class DayTerms:
    """One day's documents and, per term, how many of those documents had it."""

    day: date
    documents: int
    terms: Mapping[str, int]


@dataclass(frozen=True)
class Trend:
    """A term in the window: documents with it there and in the baseline, rates, and lift."""

    term: str
    count: int
    baseline_count: int
    rate: float
    baseline_rate: float
    lift: float


def rising_terms(
    days: Iterable[DayTerms],
    *,
    until: date,
    window_days: int = 7,
    baseline_days: int = 28,
    min_count: int = MIN_COUNT,
    limit: int = 20,
) -> tuple[Trend, ...]:
    """Terms rising in the `window_days` ending at `until` (inclusive) against the
    `baseline_days` before, ranked by lift (highest first; ties by count, then term).

    Rates are per document, so a busier week does not make every term "rise". The
    baseline rate is smoothed towards the term's rate over both periods; terms seen in
    fewer than `min_count` window documents are ignored, as are terms that did not rise.
    """
    window_start = until - timedelta(days=window_days - 1)
    baseline_start = window_start - timedelta(days=baseline_days)
    window: Counter[str] = Counter()
    baseline: Counter[str] = Counter()
    n_window = n_baseline = 0
    for day in days:
        if window_start <= day.day <= until:
            window.update(day.terms)
            n_window += day.documents
        elif baseline_start <= day.day < window_start:
            baseline.update(day.terms)
            n_baseline += day.documents
    if n_window == 0:
        return ()
    found: list[Trend] = []
    for term, count in window.items():
        if count < min_count:
            continue
        past = baseline[term]
        overall = (count + past) / (n_window + n_baseline)
        smoothed = (past + PRIOR_DOCUMENTS * overall) / (n_baseline + PRIOR_DOCUMENTS)
        rate = count / n_window
        lift = rate / smoothed
        if lift <= 1.0:
            continue
        found.append(
            Trend(
                term=term,
                count=count,
                baseline_count=past,
                rate=round(rate, 4),
                baseline_rate=round(past / n_baseline, 4) if n_baseline else 0.0,
                lift=round(lift, 3),
            )
        )
    found.sort(key=lambda t: (-t.lift, -t.count, t.term))
    return tuple(found[: max(0, limit)])

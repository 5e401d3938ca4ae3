"""Analytics core: per-source daily rollups, UTC days, stage counts, volume and term trends."""

from datetime import date, datetime, timedelta, timezone

import pytest

from shared.pipeline.rollups import (
    DayRollup,
    DocFacts,
    StageCount,
    StageStats,
    rollup,
    stage_stats,
    trend,
    utc_day,
)
from shared.pipeline.trends import DayTerms, Trend, rising_terms

MAR_1, MAR_2, MAR_3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)


def fact(
    source: str,
    day: date,
    language: str | None = "en",
    sentiment: float | None = 0.0,
    keywords: tuple[str, ...] = (),
) -> DocFacts:
    return DocFacts(
        source_id=source, day=day, language=language, sentiment=sentiment, keywords=keywords
    )


def test_rollup_groups_by_source_and_day_sorted() -> None:
    docs = [
        fact("news-b", MAR_1),
        fact("news-a", MAR_2),
        fact("news-a", MAR_1),
        fact("news-a", MAR_1),
    ]
    result = rollup(docs)
    assert [(r.source_id, r.day, r.documents) for r in result] == [
        ("news-a", MAR_1, 2),
        ("news-a", MAR_2, 1),
        ("news-b", MAR_1, 1),
    ]


def test_rollup_summarises_one_day_completely() -> None:
    docs = [
        fact("news-a", MAR_1, "en", 0.5, ("solar", "grid", "solar")),
        fact("news-a", MAR_1, "de", -0.5, ("solar", "wind")),
        fact("news-a", MAR_1, "en", None, ("grid",)),
        fact("news-a", MAR_1, None, 0.75, ()),
    ]
    assert rollup(docs) == (
        DayRollup(
            source_id="news-a",
            day=MAR_1,
            documents=4,
            avg_sentiment=0.25,
            languages=(("en", 2), ("de", 1)),
            top_keywords=(("grid", 2), ("solar", 2), ("wind", 1)),
            sentiments=(("positive", 2), ("neutral", 0), ("negative", 1)),
            terms=(("grid", 2), ("solar", 2), ("wind", 1)),
        ),
    )


def test_rollup_without_scored_documents_has_no_average() -> None:
    (day,) = rollup([fact("news-a", MAR_1, sentiment=None)])
    assert day.avg_sentiment is None


def test_rollup_keeps_top_ten_keywords() -> None:
    docs = [fact("s", MAR_1, keywords=tuple(f"k{i:02d}" for i in range(n))) for n in range(1, 16)]
    (day,) = rollup(docs)
    assert day.top_keywords == tuple((f"k{i:02d}", 15 - i) for i in range(10))


def test_rollup_of_nothing_is_empty() -> None:
    assert rollup([]) == ()


def test_trend_is_least_squares_slope_of_documents_per_day() -> None:
    series = rollup(
        [fact("s", MAR_1)] + [fact("s", MAR_2)] * 3 + [fact("s", MAR_3)] * 5,
    )
    assert trend(series) == pytest.approx(2.0)


def test_trend_uses_calendar_gaps() -> None:
    series = rollup([fact("s", MAR_1)] * 4 + [fact("s", MAR_3)] * 2)
    assert trend(series) == pytest.approx(-1.0)


def test_trend_is_zero_below_two_points() -> None:
    assert trend(()) == 0.0
    assert trend(rollup([fact("s", MAR_1)] * 7)) == 0.0


def test_rollup_counts_sentiment_labels_entities_and_labels_once_per_document() -> None:
    ada = ("Ada Lovelace", "person")
    acme = ("Acme", "organisation")
    docs = [
        DocFacts("s", MAR_1, "en", 0.9, ("grid",), "positive", (ada, acme, ada), "energy"),
        DocFacts("s", MAR_1, "en", 0.0, (), "neutral", (acme,), "energy"),
        DocFacts("s", MAR_1, "fr", -0.6, (), None, (), None),
        DocFacts("s", MAR_1, "fr", None, (), None, (), "politics"),
    ]
    (day,) = rollup(docs)
    assert day.sentiments == (("positive", 1), ("neutral", 1), ("negative", 1))
    assert day.top_entities == (("Acme", "organisation", 2), ("Ada Lovelace", "person", 1))
    assert day.labels == (("energy", 2), ("politics", 1))


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("2024-03-01T23:30:00-05:00", date(2024, 3, 2)),
        ("2024-03-02T00:30:00+02:00", date(2024, 3, 1)),
        ("2024-03-01", date(2024, 3, 1)),
        ("2024-03-01T10:00:00Z", date(2024, 3, 1)),
        ("2024-03-01 whenever", date(2024, 3, 1)),
        ("last Tuesday", date(2024, 3, 4)),
        (None, date(2024, 3, 4)),
    ],
)
def test_utc_day_reads_published_in_utc_or_falls_back(
    published: str | None, expected: date
) -> None:
    # The fallback (fetch time) is 4 March in UTC although 3 March where it was taken.
    fetched = datetime(2024, 3, 3, 23, 0, tzinfo=timezone(timedelta(hours=-3)))
    assert utc_day(published, fetched) == expected


def test_stage_stats_totals_days_and_throughput_in_pipeline_order() -> None:
    rows = [
        StageCount("intelligence", "succeeded", MAR_1, 4),
        StageCount("extraction", "succeeded", MAR_1, 6),
        StageCount("extraction", "failed", MAR_1, 1),
        StageCount("extraction", "succeeded", MAR_2, 2),
        StageCount("extraction", "skipped", MAR_2, 3),
        StageCount("zzz", "failed", MAR_2, 1),
    ]
    assert stage_stats(rows, ("discovery", "extraction", "intelligence")) == (
        StageStats(
            stage="extraction",
            totals=(("succeeded", 8), ("skipped", 3), ("failed", 1)),
            days=((MAR_1, 6, 1), (MAR_2, 2, 0)),
            per_day=4.0,
        ),
        StageStats("intelligence", (("succeeded", 4),), ((MAR_1, 4, 0),), 4.0),
        StageStats("zzz", (("failed", 1),), ((MAR_2, 0, 1),), 0.0),
    )


def days_of(start: date, n: int, documents: int, terms: dict[str, int]) -> list[DayTerms]:
    return [DayTerms(start + timedelta(days=i), documents, terms) for i in range(n)]


def test_rising_terms_ranks_by_lift_against_own_baseline() -> None:
    base = date(2024, 3, 1)
    history = days_of(base, 28, 10, {"grid": 2, "solar": 1, "steady": 5})
    week = days_of(base + timedelta(days=28), 7, 10, {"grid": 2, "solar": 4, "steady": 5})
    week[-1] = DayTerms(week[-1].day, 10, {"grid": 2, "solar": 4, "steady": 5, "flood": 6})
    found = rising_terms(history + week, until=base + timedelta(days=34), window_days=7)
    assert [t.term for t in found] == ["flood", "solar"]
    flood, solar = found
    assert (flood.count, flood.baseline_count, flood.baseline_rate) == (6, 0, 0.0)
    assert flood.lift > solar.lift > 3.0
    assert solar == Trend("solar", 28, 28, 0.4, 0.1, solar.lift)


def test_rising_terms_needs_a_minimum_count_and_a_baseline() -> None:
    day = date(2024, 3, 10)
    one_off = [DayTerms(day - timedelta(days=10), 10, {}), DayTerms(day, 10, {"rare": 2})]
    assert rising_terms(one_off, until=day) == ()
    no_history = [DayTerms(day, 10, {"new": 8})]
    assert rising_terms(no_history, until=day) == ()
    assert rising_terms([], until=day) == ()

"""Analytics core: per-source daily rollups and document-volume trends."""

from datetime import date

import pytest

from shared.pipeline.analytics import DayRollup, DocFacts, rollup, trend

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

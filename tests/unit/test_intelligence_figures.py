"""Quality figures from gold documents and predictions: accuracies, F1, entities, ROUGE-L, bars."""

import pytest

from tools.quality.intelligence import BARS, GoldDocument, Prediction, figures, missed_bars


def _gold(
    i: int,
    label: str,
    entities: frozenset[tuple[str, str]] | None = None,
    summary: str | None = None,
) -> GoldDocument:
    return GoldDocument(f"d{i}", "", "en", "neutral", label, entities, summary)


def test_intelligence_figures_count_entities_where_there_is_gold_only() -> None:
    docs = [
        _gold(1, "a", entities=frozenset({("Ada", "person"), ("Lyon", "place")})),
        _gold(2, "a", entities=frozenset()),  # judged: names nothing, so any guess is wrong
        _gold(3, "b"),  # no entity gold: not judged
    ]
    predictions = [
        Prediction("d1", "en", "neutral", "a", frozenset({("Ada", "person"), ("Lyon", "other")})),
        Prediction("d2", "en", "neutral", "a", frozenset({("Monday", "other")})),
        Prediction("d3", "en", "positive", "a", frozenset({("X", "other")})),
    ]
    result = figures(docs, predictions, ["a", "b"])
    assert result.entity_documents == 2
    assert result.entity_precision == pytest.approx(1 / 3)  # Ada of Ada, Lyon/other, Monday
    assert result.entity_recall == pytest.approx(1 / 2)  # Ada of Ada, Lyon/place
    assert result.sentiment_accuracy == pytest.approx(2 / 3)
    # a: tp 2, fp 1 → 0.8; b: never predicted → 0.
    assert result.label_f1 == {"a": pytest.approx(0.8), "b": 0.0}
    assert result.label_macro_f1 == pytest.approx(0.4)


def test_intelligence_figures_score_summaries_and_the_lead_baseline_by_rouge_l() -> None:
    docs = [_gold(1, "a", summary="police killed the gunman"), _gold(2, "a")]
    predictions = [
        Prediction("d1", "en", "neutral", "a", summary="police kill the gunman", lead="the gunman"),
        Prediction("d2", "en", "neutral", "a", summary="unjudged", lead="unjudged"),
    ]
    result = figures(docs, predictions, ["a"])
    assert result.summary_documents == 1
    assert result.summary_rouge_l == pytest.approx(0.75)
    # "the gunman": precision 2/2, recall 2/4.
    assert result.lead_rouge_l == pytest.approx(2 * 1 * 0.5 / 1.5)


def test_intelligence_missed_bars_names_each_figure_below_its_bar() -> None:
    docs = [_gold(1, "a"), _gold(2, "a")]
    predictions = [Prediction("d1", "en", "neutral", "a"), Prediction("d2", None, "negative", "a")]
    result = figures(docs, predictions, ["a"])
    assert result.language_accuracy == 0.5
    assert missed_bars(result) == {
        "language_accuracy": (0.5, BARS["language_accuracy"]),
        "sentiment_accuracy": (0.5, BARS["sentiment_accuracy"]),
    }

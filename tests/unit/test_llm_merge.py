"""Map-reduce merging of chunk insights and structured answers."""

from __future__ import annotations

from shared.llm.merge import merge_insights, merge_structured


def part(summary: str, sentiment: float, label: str | None, scores: dict[str, float]) -> dict:  # type: ignore[type-arg]
    return {
        "summary": summary,
        "keywords": ["library", summary.split()[0].lower()],
        "sentiment": sentiment,
        "sentiment_label": "neutral",
        "entities": [{"text": "Ada Lovelace", "type": "person"}],
        "label": label,
        "label_scores": scores,
    }


def test_llm_merge_weights_sentiment_and_scores_by_chunk_length() -> None:
    merged = merge_insights(
        [
            part("Good start.", 1.0, "culture", {"culture": 0.9, "sports": 0.0}),
            part("Bad end.", -0.5, "sports", {"culture": 0.3, "sports": 0.6}),
        ],
        [3, 1],
    )
    assert merged == {
        "summary": "Good start. Bad end.",
        "keywords": ["library", "good", "bad"],
        "sentiment": 0.625,
        "sentiment_label": "positive",
        "entities": [{"text": "Ada Lovelace", "type": "person"}],
        "label": "culture",
        "label_scores": {"culture": 0.75, "sports": 0.15},
    }


def test_llm_merge_single_part_is_unchanged() -> None:
    one = part("Only.", 0.0, None, {})
    assert merge_insights([one], [10]) == one


def test_llm_merge_structured_first_value_wins_and_lists_join() -> None:
    merged = merge_structured(
        [
            {"title": "T", "price": None, "tags": ["a"]},
            {"title": "Other", "price": 12, "tags": ["a", "b"], "author": ""},
            {"author": "Ada"},
        ]
    )
    assert merged == {"title": "T", "price": 12, "tags": ["a", "b"], "author": "Ada"}

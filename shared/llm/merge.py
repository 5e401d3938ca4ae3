"""Map-reduce, pure: the insights of a long document's chunks merged into one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from shared.llm.prompts import MAX_ENTITIES, MAX_KEYWORDS

LABEL_THRESHOLD = 0.15
SENTIMENT_THRESHOLD = 0.15


def sentiment_label(score: float) -> str:
    if score >= SENTIMENT_THRESHOLD:
        return "positive"
    if score <= -SENTIMENT_THRESHOLD:
        return "negative"
    return "neutral"


def merge_insights(parts: Sequence[Mapping[str, Any]], weights: Sequence[int]) -> dict[str, Any]:
    """One insight from per-chunk insights, each weighted by its chunk's length. The summary
    is the parts' summaries joined (the reduce call replaces it when there are several)."""
    if len(parts) == 1:
        return dict(parts[0])
    total = sum(weights) or 1
    score = round(sum(p["sentiment"] * w for p, w in zip(parts, weights, strict=True)) / total, 4)
    keywords: Counter[str] = Counter()
    for p in parts:
        keywords.update(k.lower() for k in p["keywords"])
    entities: dict[tuple[str, str], dict[str, str]] = {}
    for p in parts:
        for e in p["entities"]:
            entities.setdefault((e["text"].casefold(), e["type"]), e)
    names = sorted({n for p in parts for n in p["label_scores"]})
    scores = {
        n: round(
            sum(p["label_scores"].get(n, 0.0) * w for p, w in zip(parts, weights, strict=True))
            / total,
            4,
        )
        for n in names
    }
    best = max(names, key=lambda n: (scores[n], n), default=None)
    label = best if best is not None and scores[best] >= LABEL_THRESHOLD else None
    if label is None and names:  # no score clears the bar: the label most parts chose
        chosen = Counter(p["label"] for p in parts if p["label"] is not None)
        label = chosen.most_common(1)[0][0] if chosen else None
    return {
        "summary": " ".join(p["summary"] for p in parts if p["summary"]),
        "keywords": [k for k, _ in keywords.most_common(MAX_KEYWORDS)],
        "sentiment": score,
        "sentiment_label": sentiment_label(score),
        "entities": list(entities.values())[:MAX_ENTITIES],
        "label": label,
        "label_scores": scores,
    }


def merge_structured(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per field, the first chunk's non-empty value; lists are concatenated without repeats."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = merged[key] + [v for v in value if v not in merged[key]]
            elif merged.get(key) in (None, "", [], {}):
                merged[key] = value
    return merged

"""Label classification by lexical similarity: TF-IDF cosine of a text to each label's words."""

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from shared.pipeline.lexicon import ALL_STOPWORDS, tokenize

# The cosine a label must reach to be assigned; below it the text is about none of them.
THRESHOLD = 0.04
# A stem is a word's first letters, so "markets"/"market", "Spieler"/"Spiel" meet.
STEM = 5
MIN_WORD = 3
# A label's name says more about it than any single word of its description.
NAME_WEIGHT = 3.0


@dataclass(frozen=True)
class Classification:
    """Cosine similarity per label (0..1, rounded) and the best label, if it clears THRESHOLD."""

    scores: Mapping[str, float]
    label: str | None


def classify(text: str, labels: Mapping[str, str]) -> Classification:
    """Score `text` against each label's name and description and pick the most similar.

    IDF is computed over the label texts, so a word that describes every label (e.g.
    "news") counts for nothing, and one that names a single label counts most.
    """
    if not labels:
        return Classification(scores={}, label=None)
    label_bags = {
        name: _bag(description) + Counter({s: NAME_WEIGHT for s in _bag(name)})
        for name, description in labels.items()
    }
    df: Counter[str] = Counter()
    for bag in label_bags.values():
        df.update(bag.keys())
    n = len(labels)
    idf = {term: math.log(1 + n / count) for term, count in df.items()}
    doc = _weights(_bag(text), idf)
    scores: dict[str, float] = {}
    for name, bag in label_bags.items():
        scores[name] = round(_cosine(doc, _weights(bag, idf)), 4)
    best = max(scores, key=lambda name: (scores[name], name)) if scores else None
    chosen = best if best is not None and scores[best] >= THRESHOLD else None
    return Classification(scores=scores, label=chosen)


def _bag(text: str) -> Counter[str]:
    return Counter(
        w[:STEM]
        for w in tokenize(text)
        if len(w) >= MIN_WORD and w not in ALL_STOPWORDS and not w.isdigit()
    )


def _weights(bag: Mapping[str, float], idf: Mapping[str, float]) -> dict[str, float]:
    # Sublinear term frequency: the tenth mention of a word adds less than the second.
    # Terms no label uses carry no weight, so the cosine measures topical overlap only.
    return {t: (1 + math.log(tf)) * idf[t] for t, tf in bag.items() if t in idf and tf > 0}


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    dot = sum(w * b[t] for t, w in a.items() if t in b)
    if dot == 0.0:
        return 0.0
    return dot / (
        math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    )

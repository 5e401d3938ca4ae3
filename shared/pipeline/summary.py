"""Extractive summary by TextRank: sentences ranked by PageRank over their word overlap."""

import math
import re

from shared.pipeline.lexicon import stopwords_for, tokenize

MIN_SENTENCE_WORDS = 4
DAMPING = 0.85
ITERATIONS = 30
# Past this many sentences only the first ones compete: the graph is quadratic, and the
# lead of a long page is where its point usually is.
MAX_SENTENCES = 120
# A stem is a word's first letters: enough to join "library"/"libraries", "Reform"/"Reformen".
STEM = 6

_NEXT = r"(?=[\"'«“„¿¡(\[]?[^\W\d_])"
_SENTENCE_END = re.compile(rf"(?:(?<=[.!?…])|(?<=[.!?…][\"'»”)]))\s+{_NEXT}|\n+")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` in order, whitespace collapsed; empty pieces dropped.

    A full stop ends a sentence only when a letter follows, so "3.5" and "No. 4" stay whole.
    """
    return [s for s in (" ".join(p.split()) for p in _SENTENCE_END.split(text)) if s]


def summarise(text: str, language: str | None, sentences: int = 3) -> str:
    """The `sentences` most central sentences of `text`, in their original order.

    Centrality is TextRank: a sentence scores highly when it shares content words with
    other high-scoring sentences, so the summary covers what the page keeps returning to
    rather than one sentence that happens to repeat a word.
    """
    candidates = split_sentences(text)[:MAX_SENTENCES]
    if sentences <= 0 or not candidates:
        return ""
    if len(candidates) <= sentences:
        return " ".join(candidates)
    stop = stopwords_for(language)
    bags = [_stems(sentence, stop) for sentence in candidates]
    ranks = _textrank(bags)
    order = sorted(range(len(candidates)), key=lambda i: (-ranks[i], i))
    return " ".join(candidates[i] for i in sorted(order[:sentences]))


def _stems(sentence: str, stop: frozenset[str]) -> set[str]:
    words = tokenize(sentence)
    if len(words) < MIN_SENTENCE_WORDS:
        return set()
    return {w[:STEM] for w in words if w not in stop and len(w) > 2 and not w.isdigit()}


def _textrank(bags: list[set[str]]) -> list[float]:
    n = len(bags)
    # Mihalcea & Tarau's similarity: shared words over the log lengths, so long sentences
    # do not win by size alone.
    weights = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            shared = len(bags[i] & bags[j])
            if shared and len(bags[i]) > 1 and len(bags[j]) > 1:
                w = shared / (math.log(len(bags[i])) + math.log(len(bags[j])))
                weights[i][j] = weights[j][i] = w
    totals = [sum(row) for row in weights]
    # Each sentence's neighbours with their share of the neighbour's weight, once: the graph
    # is sparse, and the iterations then skip the zeros (the sums, in the same order, are
    # the same).
    incoming = [
        [(j, weights[j][i] / totals[j]) for j in range(n) if totals[j] and weights[j][i]]
        for i in range(n)
    ]
    # A sentence with content but no neighbours still ranks above an empty one.
    base = [(1 - DAMPING) * (1.0 if bag else 0.0) for bag in bags]
    ranks = [1.0 if bag else 0.0 for bag in bags]
    for _ in range(ITERATIONS):
        ranks = [
            base[i] + DAMPING * sum(share * ranks[j] for j, share in incoming[i]) for i in range(n)
        ]
    return ranks

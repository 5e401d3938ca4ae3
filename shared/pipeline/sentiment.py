"""Sentiment in -1..1: VADER (its shipped lexicon) blended in for English, inline lexicons."""

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

from shared.pipeline.lexicon import NEGATIONS, NEGATIVE, POSITIVE, tokenize
from shared.pipeline.summary import split_sentences

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
        SentimentIntensityAnalyzer,
    )

LABEL_THRESHOLD = 0.15
# A negation flips sentiment words up to this many tokens after it ("not very good").
NEGATION_WINDOW = 3
# Sentiment hits needed before a lexicon score may reach ±1; fewer hits are damped towards 0.
FULL_CONFIDENCE_HITS = 3
# VADER scores sentences; a page's score is the mean over its sentences, scaled so that a
# page whose every sentence is mildly opinionated still reads as clearly one way.
VADER_GAIN = 1.5


def score(text: str, language: str | None) -> float:
    """Sentiment of `text` in -1..1 (0 when there is no evidence either way).

    English blends VADER, which knows intensifiers, "but" clauses and emphasis, with the
    inline lexicon; other languages (and unknown ones) use the inline lexicons with
    negation handling.
    """
    words = tokenize(text)
    if language == "en":
        # An equal blend: VADER knows general English and its grammar, our lexicon the
        # words of news ("growth", "crisis", "losses") that VADER scores weakly or not at all.
        return round((_vader(text) + lexicon_score(words, language)) / 2, 4)
    return lexicon_score(words, language)


def label(value: float) -> str:
    """Name a sentiment score: positive, negative, or neutral inside ±0.15."""
    if value >= LABEL_THRESHOLD:
        return "positive"
    if value <= -LABEL_THRESHOLD:
        return "negative"
    return "neutral"


@cache
def _analyzer() -> "SentimentIntensityAnalyzer":
    # Reads the lexicon that the package ships, once per process, and only in a process that
    # scores English text (analytics and the dashboard import label() and must stay lean).
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _vader(text: str) -> float:
    sentences = split_sentences(text)
    if not sentences:
        return 0.0
    analyzer = _analyzer()
    compounds = [float(analyzer.polarity_scores(s)["compound"]) for s in sentences]
    mean = sum(compounds) / len(compounds)
    return round(max(-1.0, min(1.0, mean * VADER_GAIN)), 4)


def lexicon_score(words: list[str], language: str | None) -> float:
    """(pos - neg) / (pos + neg) over lexicon hits, damped when there is little evidence.

    A sentiment word within a few tokens after a negation counts for the other side.
    """
    positive, negative = _lexicon(POSITIVE, language), _lexicon(NEGATIVE, language)
    pos = neg = 0
    last_negation = -NEGATION_WINDOW - 1
    for i, word in enumerate(words):
        if word in NEGATIONS:
            last_negation = i
            continue
        polarity = 1 if _matches(word, positive) else -1 if _matches(word, negative) else 0
        if polarity and i - last_negation <= NEGATION_WINDOW:
            polarity = -polarity
        pos += polarity > 0
        neg += polarity < 0
    hits = pos + neg
    if hits == 0:
        return 0.0
    confidence = min(1.0, hits / FULL_CONFIDENCE_HITS)
    return round((pos - neg) / hits * confidence, 4)


def _matches(word: str, lexicon: frozenset[str]) -> bool:
    # Tolerate up to three letters of inflection ("schrecklicher", "décevante") on stems
    # long enough that a shorter word cannot collide by accident.
    if word in lexicon:
        return True
    return any(word[:cut] in lexicon for cut in range(len(word) - 1, len(word) - 4, -1) if cut >= 5)


def _lexicon(lists: Mapping[str, frozenset[str]], language: str | None) -> frozenset[str]:
    if language is not None and language in lists:
        return lists[language]
    return frozenset().union(*lists.values())

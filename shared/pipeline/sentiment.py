"""Sentiment in -1..1: VADER (its shipped lexicon) blended in for English, inline lexicons."""

import math
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

from shared.pipeline.lexicon import (
    MILD,
    NEGATIONS,
    NEGATIVE,
    NOT_NEGATING,
    POSITIVE,
    tokenize,
)
from shared.pipeline.summary import split_sentences

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
        SentimentIntensityAnalyzer,
    )

LABEL_THRESHOLD = 0.15
# A negation flips sentiment words up to this many tokens after it ("not very good").
NEGATION_WINDOW = 3
# A word that names an event or a quantity ("risk", "growth": lexicon.MILD) weighs this much
# of an evaluative one ("terrible", "excellent").
MILD_WEIGHT = 0.5
# The lexicon score is the net weight of the hits over the larger of their total weight and
# this floor, so thin evidence stays near 0: one evaluative word reads as a lean (0.25), one
# mild word does not (0.125), two mild words the same way do.
FULL_CONFIDENCE_HITS = 4.0
# ... and over √words / NOISE_DIVISOR: incidental hits in neutral text (a "risk" here, a
# "strong" there) add up like noise, their imbalance growing with the square root of the
# length, so a long report needs more net evidence than a short one. The floor takes over
# from FULL_CONFIDENCE_HITS at 64 words, about the median length of the tuning documents.
NOISE_DIVISOR = 2.0
# Suffixes that turn a sentiment stem into its absence: German "problemlos", "erfolglos".
PRIVATIVE_SUFFIXES: Mapping[str, tuple[str, ...]] = {"de": ("los",)}
# VADER scores sentences; a page's score is the mean over its sentences, scaled so that a
# page whose every sentence is mildly opinionated still reads as clearly one way.
VADER_GAIN = 1.5


def score(text: str, language: str | None) -> float:
    """Sentiment of `text` in -1..1 (0 when there is no evidence either way).

    English blends VADER, which knows intensifiers, "but" clauses and emphasis, with the
    inline lexicon; other languages (and unknown ones) use the inline lexicons with
    negation handling. A news item that mentions one "risk" or a "strong" quarter in passing
    stays inside the neutral band (label()); a lean needs an evaluative word or several
    event words pointing the same way.
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
    """Net weight of the lexicon hits over their evidence, damped when evidence is thin.

    Evaluative words weigh 1 and event words MILD_WEIGHT; a sentiment word within a few
    tokens after a negation, or with a privative suffix, counts for the other side.
    """
    positive, negative = _lexicon(POSITIVE, language), _lexicon(NEGATIVE, language)
    mild = _lexicon(MILD, language)
    privative = _suffixes(language)
    pos = neg = 0.0
    last_negation = -NEGATION_WINDOW - 1
    for i, word in enumerate(words):
        if word in NEGATIONS:
            following = words[i + 1] if i + 1 < len(words) else ""
            if following not in NOT_NEGATING.get(word, frozenset()):
                last_negation = i
            continue
        polarity, entry = 1, _entry(word, positive)
        if entry is None:
            polarity, entry = -1, _entry(word, negative)
        if entry is None:
            continue
        negated = i - last_negation <= NEGATION_WINDOW
        if negated or (privative and word[len(entry) :].startswith(privative)):
            polarity = -polarity
        weight = MILD_WEIGHT if entry in mild else 1.0
        if polarity > 0:
            pos += weight
        else:
            neg += weight
    if pos + neg == 0:
        return 0.0
    floor = max(FULL_CONFIDENCE_HITS, math.sqrt(len(words)) / NOISE_DIVISOR)
    return round((pos - neg) / max(pos + neg, floor), 4)


def _entry(word: str, lexicon: frozenset[str]) -> str | None:
    # The lexicon entry `word` is a form of: itself, or a stem long enough that a shorter word
    # cannot collide by accident, followed by up to three letters of inflection
    # ("schrecklicher", "décevante").
    if word in lexicon:
        return word
    for cut in range(len(word) - 1, len(word) - 4, -1):
        if cut >= 5 and word[:cut] in lexicon:
            return word[:cut]
    return None


def _suffixes(language: str | None) -> tuple[str, ...]:
    if language is not None:
        return PRIVATIVE_SUFFIXES.get(language, ())
    return tuple(s for suffixes in PRIVATIVE_SUFFIXES.values() for s in suffixes)


def _lexicon(lists: Mapping[str, frozenset[str]], language: str | None) -> frozenset[str]:
    if language is not None and language in lists:
        return lists[language]
    return frozenset().union(*lists.values())

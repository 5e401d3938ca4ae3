"""Offline default intelligence: extractive summary, keywords and lexicon sentiment."""

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from shared.pipeline.lexicon import NEGATIONS, NEGATIVE, POSITIVE, stopwords_for, tokenize

LABEL_THRESHOLD = 0.15
MIN_KEYWORD_LENGTH = 3
# A negation flips sentiment words up to this many tokens after it ("not very good").
NEGATION_WINDOW = 3
# Sentiment hits needed before a score may reach ±1; fewer hits are damped towards 0.
FULL_CONFIDENCE_HITS = 3
MIN_SENTENCE_WORDS = 4

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass(frozen=True)
class Analysis:
    """What the offline intelligence knows about one document."""

    summary: str
    keywords: tuple[str, ...]
    sentiment: float
    sentiment_label: str
    language: str | None
    word_count: int


def analyse(
    text: str, language: str | None, *, summary_sentences: int = 3, max_keywords: int = 8
) -> Analysis:
    """Summarise, pick keywords and score sentiment without any network or model.

    `language` selects the stopword and sentiment lists; None uses all supported ones.
    Sentiment is in -1..1 and labelled positive/negative beyond ±0.15.
    """
    words = tokenize(text)
    freq = _term_frequencies(words, stopwords_for(language))
    score = _sentiment(words, language)
    return Analysis(
        summary=_summarise(text, freq, summary_sentences),
        keywords=tuple(term for term, _ in freq.most_common(max(0, max_keywords))),
        sentiment=score,
        sentiment_label=label(score),
        language=language,
        word_count=len(words),
    )


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` in order, whitespace collapsed; empty pieces dropped."""
    return [s for s in (" ".join(p.split()) for p in _SENTENCE_END.split(text)) if s]


def _summarise(text: str, freq: Counter[str], sentences: int) -> str:
    # The best sentences by mean normalised frequency of their content terms, kept in
    # their original order so the summary reads like the source.
    candidates = split_sentences(text)
    if sentences <= 0 or not candidates:
        return ""
    top = max(freq.values(), default=1)

    def score(sentence: str) -> float:
        tokens = tokenize(sentence)
        terms = [w for w in tokens if w in freq]
        if len(tokens) < MIN_SENTENCE_WORDS or not terms:
            return 0.0
        return sum(freq[w] / top for w in terms) / len(terms)

    ranked = sorted(range(len(candidates)), key=lambda i: (-score(candidates[i]), i))
    keep = sorted(ranked[:sentences])
    return " ".join(candidates[i] for i in keep)


def _sentiment(words: list[str], language: str | None) -> float:
    # (pos - neg) / (pos + neg) in -1..1, damped when there is little evidence; a sentiment
    # word within a few tokens after a negation counts for the other side ("not good").
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


def label(score: float) -> str:
    """Name a sentiment score: positive, negative, or neutral inside ±0.15."""
    if score >= LABEL_THRESHOLD:
        return "positive"
    if score <= -LABEL_THRESHOLD:
        return "negative"
    return "neutral"


def _term_frequencies(words: list[str], stopwords: frozenset[str]) -> Counter[str]:
    # Counter keeps first-seen order, so most_common breaks ties by first appearance.
    return Counter(
        w for w in words if len(w) >= MIN_KEYWORD_LENGTH and w not in stopwords and not w.isdigit()
    )


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

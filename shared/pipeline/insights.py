"""Offline default intelligence: extractive summary, keywords and sentiment of one text."""

from collections import Counter
from dataclasses import dataclass

from shared.pipeline import sentiment
from shared.pipeline.lexicon import stopwords_for, tokenize
from shared.pipeline.summary import split_sentences, summarise

__all__ = ["Analysis", "analyse", "keywords", "label", "split_sentences"]

MIN_KEYWORD_LENGTH = 3
label = sentiment.label


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
    score = sentiment.score(text, language)
    return Analysis(
        summary=summarise(text, language, summary_sentences),
        keywords=keywords(words, language, max_keywords),
        sentiment=score,
        sentiment_label=label(score),
        language=language,
        word_count=len(words),
    )


def keywords(words: list[str], language: str | None, limit: int) -> tuple[str, ...]:
    """The most frequent content words, first-seen order breaking ties.

    Stopwords, numbers and words under three letters are not keywords.
    """
    stop = stopwords_for(language)
    freq = Counter(
        w for w in words if len(w) >= MIN_KEYWORD_LENGTH and w not in stop and not w.isdigit()
    )
    return tuple(term for term, _ in freq.most_common(max(0, limit)))

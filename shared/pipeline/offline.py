"""Offline intelligence: the no-network, no-model default that the `local` provider returns."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.pipeline import sentiment
from shared.pipeline.classify import classify
from shared.pipeline.entities import Entity, EntityType, find_entities
from shared.pipeline.insights import keywords as find_keywords
from shared.pipeline.language import detect_language
from shared.pipeline.lexicon import tokenize
from shared.pipeline.structured import extract_structured
from shared.pipeline.summary import summarise

__all__ = ["Entity", "EntityType", "OfflineAnalysis", "analyse_offline"]

SUMMARY_SENTENCES = 3
MAX_KEYWORDS = 8


@dataclass(frozen=True)
class OfflineAnalysis:
    """Everything the offline default knows about one document.

    `label` is None when no label clears the threshold or none were given; `structured`
    is None when no schema was given, and `missing_fields` names the schema's fields
    (dotted for nested objects) that could not be found in the text.
    """

    summary: str
    keywords: tuple[str, ...]
    sentiment: float
    sentiment_label: str
    language: str | None
    entities: tuple[Entity, ...]
    label_scores: Mapping[str, float] = field(default_factory=dict)
    label: str | None = None
    structured: Mapping[str, Any] | None = None
    missing_fields: tuple[str, ...] = ()
    word_count: int = 0


def analyse_offline(
    text: str,
    *,
    language_hint: str | None = None,
    labels: Mapping[str, str] | None = None,
    schema: Mapping[str, Any] | None = None,
) -> OfflineAnalysis:
    """Analyse `text` with the pure offline cores: no I/O, deterministic, any input accepted.

    `language_hint` (e.g. the page's declared language, "de-AT" is fine) wins over
    detection; `labels` maps label names to descriptions; `schema` is a JSON Schema
    whose properties are filled from the text.
    """
    language = _language(language_hint) or detect_language(text)
    words = tokenize(text)
    score = sentiment.score(text, language)
    entities = find_entities(text, language)
    ranked = classify(text, labels or {})
    structured: Mapping[str, Any] | None = None
    missing: tuple[str, ...] = ()
    if schema is not None:
        found = extract_structured(text, schema, entities=entities, language=language)
        structured, missing = found.values, found.missing
    return OfflineAnalysis(
        summary=summarise(text, language, SUMMARY_SENTENCES),
        keywords=find_keywords(words, language, MAX_KEYWORDS),
        sentiment=score,
        sentiment_label=sentiment.label(score),
        language=language,
        entities=entities,
        label_scores=ranked.scores,
        label=ranked.label,
        structured=structured,
        missing_fields=missing,
        word_count=len(words),
    )


def _language(hint: str | None) -> str | None:
    # Pages declare "en-GB", "DE", "fr_CA"; the cores know the primary subtag.
    if not hint:
        return None
    primary = hint.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None

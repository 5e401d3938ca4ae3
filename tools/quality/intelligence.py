"""Offline intelligence quality on a labelled set: language, sentiment and label figures.

`documents.jsonl` holds one document a line with its gold language, sentiment and label
(some also with their named entities);
`labels.json` holds the label names and descriptions that classification sees. Run
`python -m tools.quality.extraction intelligence [DIR]` to print the figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shared.pipeline.offline import analyse_offline

DEFAULT_DIR = Path("tests/sites/intelligence")


@dataclass(frozen=True)
class GoldDocument:
    id: str
    text: str
    language: str
    sentiment: str
    label: str
    # (text, type) of each named entity; None where the document has no entity gold.
    entities: frozenset[tuple[str, str]] | None = None
    # "dev": looked at while the entity rules were written; "held-out": annotated after.
    entity_set: str | None = None


@dataclass(frozen=True)
class Prediction:
    id: str
    language: str | None
    sentiment: str
    label: str | None
    entities: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Figures:
    """Accuracy of language and sentiment, and macro-F1 over the labels (1.0 is perfect)."""

    documents: int
    language_accuracy: float
    sentiment_accuracy: float
    label_macro_f1: float
    label_f1: Mapping[str, float]
    # Per entity set ("dev", "held-out"): (documents, precision, recall) on text and type.
    entities: Mapping[str, tuple[int, float, float]] = field(default_factory=dict)


def load(directory: Path) -> tuple[dict[str, str], list[GoldDocument]]:
    labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))["labels"]
    lines = (directory / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    docs = [
        GoldDocument(
            id=d["id"],
            text=d["text"],
            language=d["language"],
            sentiment=d["sentiment"],
            label=d["label"],
            entities=(
                frozenset((str(t), str(k)) for t, k in d["entities"]) if "entities" in d else None
            ),
            entity_set=d.get("entity_set"),
        )
        for d in (json.loads(line) for line in lines if line.strip())
    ]
    return dict(labels), docs


def predict(docs: Sequence[GoldDocument], labels: Mapping[str, str]) -> list[Prediction]:
    out: list[Prediction] = []
    for doc in docs:
        result = analyse_offline(doc.text, labels=labels)
        entities = frozenset((e.text, e.type) for e in result.entities)
        out.append(
            Prediction(doc.id, result.language, result.sentiment_label, result.label, entities)
        )
    return out


def figures(
    docs: Sequence[GoldDocument], predictions: Sequence[Prediction], labels: Sequence[str]
) -> Figures:
    pairs = list(zip(docs, predictions, strict=True))
    n = len(pairs)
    per_label = {name: _f1(name, pairs) for name in labels}
    sets = sorted({d.entity_set or "" for d, _ in pairs if d.entities is not None})
    return Figures(
        documents=n,
        language_accuracy=sum(p.language == d.language for d, p in pairs) / n,
        sentiment_accuracy=sum(p.sentiment == d.sentiment for d, p in pairs) / n,
        label_macro_f1=sum(per_label.values()) / len(per_label),
        label_f1=per_label,
        entities={name: _entity_scores(name, pairs) for name in sets},
    )


def _entity_scores(
    name: str, pairs: Sequence[tuple[GoldDocument, Prediction]]
) -> tuple[int, float, float]:
    # An entity counts as found when text and type both match (micro-averaged).
    judged = [
        (d.entities, p.entities)
        for d, p in pairs
        if d.entities is not None and (d.entity_set or "") == name
    ]
    right = sum(len(gold & got) for gold, got in judged)
    predicted = sum(len(got) for _, got in judged)
    wanted = sum(len(gold) for gold, _ in judged)
    return (
        len(judged),
        right / predicted if predicted else 0.0,
        right / wanted if wanted else 0.0,
    )


def _f1(name: str, pairs: Sequence[tuple[GoldDocument, Prediction]]) -> float:
    tp = sum(p.label == name and d.label == name for d, p in pairs)
    fp = sum(p.label == name and d.label != name for d, p in pairs)
    fn = sum(p.label != name and d.label == name for d, p in pairs)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def report(result: Figures) -> str:
    """The figures as the lines the CLI and the quality test print."""
    lines = [
        f"offline intelligence on {result.documents} labelled documents",
        f"  language accuracy  {result.language_accuracy:.3f}",
        f"  sentiment accuracy {result.sentiment_accuracy:.3f}",
        f"  label macro-F1     {result.label_macro_f1:.3f}",
    ]
    lines += [f"    {name:<14}F1 {f1:.3f}" for name, f1 in result.label_f1.items()]
    for name, (n, precision, recall) in result.entities.items():
        lines.append(
            f"  entities, {name or 'all'} ({n} documents; text and type must match): "
            f"precision {precision:.3f}, recall {recall:.3f}"
        )
    return "\n".join(lines)


def misses(docs: Sequence[GoldDocument], predictions: Sequence[Prediction]) -> list[str]:
    """One line per document with any wrong answer: id, then gold→predicted for each."""
    out = []
    for d, p in zip(docs, predictions, strict=True):
        wrong = [
            f"{what} {gold}→{got}"
            for what, gold, got in (
                ("language", d.language, p.language),
                ("sentiment", d.sentiment, p.sentiment),
                ("label", d.label, p.label),
            )
            if gold != got
        ]
        if wrong:
            out.append(f"  {d.id:<8}" + ", ".join(wrong))
    return out


def main(argv: list[str]) -> None:
    labels, docs = load(Path(argv[0]) if argv else DEFAULT_DIR)
    predictions = predict(docs, labels)
    print(report(figures(docs, predictions, list(labels))))
    print("\n".join(misses(docs, predictions)))

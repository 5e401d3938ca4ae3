"""Offline intelligence quality on two labelled sets: the tuning set and the frozen evaluation set.

`tests/sites/intelligence/` holds `labels.json` (the label names and descriptions that
classification sees), `tuning.jsonl` (what rules may be written against), `evaluation.jsonl`
(held out; frozen by `evaluation.sha256`) and a README on how they were annotated. Figures:
language and sentiment accuracy, label macro-F1, entity precision and recall, and ROUGE-L F of
the summary against a reference, beside the lead-N baseline. The bars apply to the evaluation
set. `quarry quality intelligence [DIR]` prints them side by side.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.pipeline.offline import SUMMARY_SENTENCES, analyse_offline
from shared.pipeline.summary import split_sentences
from tools.quality.rouge import rouge_l

DEFAULT_DIR = Path("tests/sites/intelligence")
TUNING, EVALUATION, CHECKSUM = "tuning.jsonl", "evaluation.jsonl", "evaluation.sha256"

# Issue #6's bars, held by the evaluation set: Figures attribute → lowest acceptable value.
BARS: Mapping[str, float] = {
    "language_accuracy": 0.95,
    "sentiment_accuracy": 0.70,
    "label_macro_f1": 0.70,
}


@dataclass(frozen=True)
class GoldDocument:
    id: str
    text: str
    language: str
    sentiment: str
    label: str
    # (text, type) of each named entity; None where the document has no entity gold.
    entities: frozenset[tuple[str, str]] | None = None
    # A person's one-to-two-sentence summary; None where the document has none.
    summary: str | None = None


@dataclass(frozen=True)
class Prediction:
    id: str
    language: str | None
    sentiment: str
    label: str | None
    entities: frozenset[tuple[str, str]] = frozenset()
    summary: str = ""
    # The baseline every extractive summary must beat: the document's first sentences.
    lead: str = ""


@dataclass(frozen=True)
class Figures:
    """One set's figures; accuracies, F1, precision, recall and ROUGE-L are in 0..1."""

    documents: int
    language_accuracy: float
    sentiment_accuracy: float
    label_macro_f1: float
    label_f1: Mapping[str, float]
    # Entities count as found when text and type both match (micro-averaged).
    entity_documents: int
    entity_precision: float
    entity_recall: float
    # Mean ROUGE-L F1 against the reference summaries, of the offline summary and of lead-N.
    summary_documents: int
    summary_rouge_l: float
    lead_rouge_l: float


@dataclass(frozen=True)
class LabelledSets:
    labels: dict[str, str]
    tuning: list[GoldDocument]
    evaluation: list[GoldDocument]
    # The evaluation file's SHA-256 as read now, and as recorded when it was frozen.
    evaluation_sha256: str
    frozen_sha256: str

    @property
    def is_frozen(self) -> bool:
        return self.evaluation_sha256 == self.frozen_sha256


def load(directory: Path) -> LabelledSets:
    """Both sets and the labels; OSError, ValueError, KeyError or TypeError when malformed."""
    labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))["labels"]
    raw = (directory / EVALUATION).read_bytes()
    frozen = (directory / CHECKSUM).read_text(encoding="utf-8").split()
    return LabelledSets(
        labels=dict(labels),
        tuning=_documents((directory / TUNING).read_text(encoding="utf-8")),
        evaluation=_documents(raw.decode("utf-8")),
        evaluation_sha256=hashlib.sha256(raw).hexdigest(),
        frozen_sha256=frozen[0] if frozen else "",
    )


def _documents(jsonl: str) -> list[GoldDocument]:
    return [
        GoldDocument(
            id=d["id"],
            text=d["text"],
            language=d["language"],
            sentiment=d["sentiment"],
            label=d["label"],
            entities=(
                frozenset((str(t), str(k)) for t, k in d["entities"]) if "entities" in d else None
            ),
            summary=d.get("summary"),
        )
        for d in (json.loads(line) for line in jsonl.splitlines() if line.strip())
    ]


def predict(docs: Sequence[GoldDocument], labels: Mapping[str, str]) -> list[Prediction]:
    out: list[Prediction] = []
    for doc in docs:
        result = analyse_offline(doc.text, labels=labels)
        entities = frozenset((e.text, e.type) for e in result.entities)
        lead = " ".join(split_sentences(doc.text)[:SUMMARY_SENTENCES])
        out.append(
            Prediction(
                doc.id,
                result.language,
                result.sentiment_label,
                result.label,
                entities,
                result.summary,
                lead,
            )
        )
    return out


def figures(
    docs: Sequence[GoldDocument], predictions: Sequence[Prediction], labels: Sequence[str]
) -> Figures:
    pairs = list(zip(docs, predictions, strict=True))
    n = len(pairs)
    per_label = {name: _f1(name, pairs) for name in labels}
    judged = [(d.entities, p.entities) for d, p in pairs if d.entities is not None]
    right = sum(len(gold & got) for gold, got in judged)
    predicted = sum(len(got) for _, got in judged)
    wanted = sum(len(gold) for gold, _ in judged)
    summarised = [(d.summary, p) for d, p in pairs if d.summary]
    return Figures(
        documents=n,
        language_accuracy=sum(p.language == d.language for d, p in pairs) / n,
        sentiment_accuracy=sum(p.sentiment == d.sentiment for d, p in pairs) / n,
        label_macro_f1=sum(per_label.values()) / len(per_label),
        label_f1=per_label,
        entity_documents=len(judged),
        entity_precision=right / predicted if predicted else 0.0,
        entity_recall=right / wanted if wanted else 0.0,
        summary_documents=len(summarised),
        summary_rouge_l=_mean([rouge_l(p.summary, ref).f1 for ref, p in summarised]),
        lead_rouge_l=_mean([rouge_l(p.lead, ref).f1 for ref, p in summarised]),
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _f1(name: str, pairs: Sequence[tuple[GoldDocument, Prediction]]) -> float:
    tp = sum(p.label == name and d.label == name for d, p in pairs)
    fp = sum(p.label == name and d.label != name for d, p in pairs)
    fn = sum(p.label != name and d.label == name for d, p in pairs)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def missed_bars(result: Figures) -> dict[str, tuple[float, float]]:
    """Bars the figures miss: attribute → (figure, bar)."""
    return {
        name: (float(getattr(result, name)), bar)
        for name, bar in BARS.items()
        if getattr(result, name) < bar
    }


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
        if d.entities is not None:
            missing = sorted(f"{t} ({k})" for t, k in d.entities - p.entities)
            extra = sorted(f"{t} ({k})" for t, k in p.entities - d.entities)
            wrong += [f"entity missed {e}" for e in missing]
            wrong += [f"entity extra {e}" for e in extra]
        if wrong:
            out.append(f"  {d.id:<8}" + "; ".join(wrong))
    return out

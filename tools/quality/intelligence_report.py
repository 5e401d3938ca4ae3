"""The offline intelligence figures of both labelled sets, side by side, as the CLI prints them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.pipeline.offline import SUMMARY_SENTENCES
from tools.quality.intelligence import (
    BARS,
    DEFAULT_DIR,
    Figures,
    LabelledSets,
    figures,
    load,
    missed_bars,
    misses,
    predict,
)

NAME_WIDTH, CELL = 46, 12
# README.md's generated block that holds the table (emulator/readme_blocks.py).
README_BLOCK = "quality-intelligence"


@dataclass(frozen=True)
class Measured:
    """Both sets with their figures, and each set's misses (one line per wrong document)."""

    sets: LabelledSets
    tuning: Figures
    evaluation: Figures
    tuning_misses: list[str]
    evaluation_misses: list[str]


def measure(sets: LabelledSets) -> Measured:
    labels = list(sets.labels)
    tuning = predict(sets.tuning, sets.labels)
    evaluation = predict(sets.evaluation, sets.labels)
    return Measured(
        sets=sets,
        tuning=figures(sets.tuning, tuning, labels),
        evaluation=figures(sets.evaluation, evaluation, labels),
        tuning_misses=misses(sets.tuning, tuning),
        evaluation_misses=misses(sets.evaluation, evaluation),
    )


def report(measured: Measured) -> str:
    """The table: one row per figure, tuning and evaluation columns, bars beside evaluation."""
    t, e = measured.tuning, measured.evaluation
    missed = missed_bars(e)
    lines = [
        "offline intelligence: tuning set (rules are written against it) and evaluation set"
        " (held out, frozen)",
        f"{'':<{NAME_WIDTH}}{'tuning':>{CELL}}{'evaluation':>{CELL}}   bar (evaluation)",
        _row("documents", t.documents, e.documents),
    ]

    def scored(title: str, name: str, get: Callable[[Figures], float]) -> None:
        bar = ""
        if name in BARS:
            bar = f"   ≥ {BARS[name]:.2f} " + ("MISSED" if name in missed else "met")
        lines.append(_row(title, get(t), get(e)) + bar)

    scored("language accuracy", "language_accuracy", lambda f: f.language_accuracy)
    scored("sentiment accuracy", "sentiment_accuracy", lambda f: f.sentiment_accuracy)
    scored("label macro-F1", "label_macro_f1", lambda f: f.label_macro_f1)
    for label in t.label_f1:
        lines.append(_row(f"  {label} F1", t.label_f1[label], e.label_f1[label]))
    lines += [
        "entities (text and type must match)",
        _row("  documents with entity gold", t.entity_documents, e.entity_documents),
        _row("  precision", t.entity_precision, e.entity_precision),
        _row("  recall", t.entity_recall, e.entity_recall),
        "summaries, ROUGE-L F1 against a person's reference",
        _row("  documents with a reference", t.summary_documents, e.summary_documents),
        _row(
            f"  offline summary (TextRank, {SUMMARY_SENTENCES} sentences)",
            t.summary_rouge_l if t.summary_documents else None,
            e.summary_rouge_l if e.summary_documents else None,
        ),
        _row(
            f"  lead-{SUMMARY_SENTENCES} baseline (first sentences)",
            t.lead_rouge_l if t.summary_documents else None,
            e.lead_rouge_l if e.summary_documents else None,
        ),
        freeze_line(measured.sets),
    ]
    return "\n".join(lines)


def freeze_line(sets: LabelledSets) -> str:
    digest = sets.evaluation_sha256
    if sets.is_frozen:
        return f"evaluation set: sha256 {digest[:16]}… matches evaluation.sha256 (frozen)"
    return (
        f"evaluation set: MODIFIED, sha256 {digest[:16]}… differs from evaluation.sha256 "
        f"({sets.frozen_sha256[:16] or 'empty'}…): its figures are no longer held out"
    )


def _row(title: str, tuning: float | int | None, evaluation: float | int | None) -> str:
    return f"{title:<{NAME_WIDTH}}{_cell(tuning)}{_cell(evaluation)}"


def _cell(value: float | int | None) -> str:
    if value is None:
        return f"{'—':>{CELL}}"
    if isinstance(value, int):
        return f"{value:>{CELL}}"
    return f"{value:>{CELL}.3f}"


def main(argv: list[str]) -> None:
    """`python -m tools.quality.extraction intelligence [DIR]`: the table, then tuning misses."""
    measured = measure(load(Path(argv[0]) if argv else DEFAULT_DIR))
    print(report(measured))
    print("misses on the tuning set (gold→predicted):")
    print("\n".join(measured.tuning_misses))

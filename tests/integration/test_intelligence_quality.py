"""Offline intelligence quality on the labelled set in tests/sites/intelligence/.

The bar from issue #6: language accuracy 0.95, sentiment accuracy 0.70, label macro-F1 0.70;
entity precision and recall (text and type) are printed for the dev and held-out subsets.
The figures are printed (pytest -s, or -rP) and are in every failure message.
"""

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from tools.quality.intelligence import figures, load, misses, predict, report

SET = Path(__file__).parent.parent / "sites" / "intelligence"


def test_intelligence_quality_meets_the_bar() -> None:
    labels, docs = load(SET)
    assert len(docs) >= 60
    assert {d.language for d in docs} == {"en", "de", "fr", "es"}
    assert {d.label for d in docs} == set(labels)
    assert {d.sentiment for d in docs} == {"positive", "neutral", "negative"}
    predictions = predict(docs, labels)
    result = figures(docs, predictions, list(labels))
    shown = report(result) + "\n" + "\n".join(misses(docs, predictions))
    print(shown)
    assert result.language_accuracy >= 0.95, shown
    assert result.sentiment_accuracy >= 0.70, shown
    assert result.label_macro_f1 >= 0.70, shown
    # No bar in the issue for entities; this one only catches a collapse of the heuristics.
    assert set(result.entities) == {"dev", "held-out"}
    for documents, precision, recall in result.entities.values():
        assert documents == 24
        assert min(precision, recall) >= 0.5, shown


def test_quarry_quality_intelligence_prints_the_figures(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["quality", "intelligence", str(SET), "--no-misses"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "offline intelligence on 69 labelled documents"
    assert "label macro-F1" in result.output
    missing = runner.invoke(app, ["quality", "intelligence", str(tmp_path)])
    assert missing.exit_code == 2
    assert f"cannot read the labelled set in {tmp_path}" in missing.output

"""Offline intelligence quality on the tuning set and the frozen evaluation set.

Rules are written against the tuning set only; the evaluation set was written before any rule
changed with it in view and is frozen by its checksum (tests/sites/intelligence/README.md).
The bars apply to the evaluation set; README quotes the table that `quarry quality intelligence`
prints, and a test keeps them equal.
"""

import hashlib
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tools.quality.intelligence import load, missed_bars
from tools.quality.intelligence_report import README_BLOCK, Measured, measure, report
from tools.readme_blocks import read_block

SET = Path(__file__).parent.parent / "sites" / "intelligence"
README = Path(__file__).parent.parent.parent / "README.md"


@pytest.fixture(scope="module")
def measured() -> Measured:
    return measure(load(SET))


def test_intelligence_evaluation_set_is_frozen() -> None:
    # The evaluation set was written before any rule was changed against it; its checksum,
    # committed with it, is what keeps it held out (tests/sites/intelligence/README.md).
    expected = (SET / "evaluation.sha256").read_text(encoding="utf-8").split()
    actual = hashlib.sha256((SET / "evaluation.jsonl").read_bytes()).hexdigest()
    assert expected == [actual, "evaluation.jsonl"], (
        "tests/sites/intelligence/evaluation.jsonl changed after it was frozen: the evaluation"
        " set may not be edited; retire it into the tuning set and write a new one instead"
    )


def test_intelligence_sets_cover_every_language_label_and_sentiment(measured: Measured) -> None:
    sets = measured.sets
    assert len(sets.tuning) == 121
    assert len(sets.evaluation) >= 80
    for docs in (sets.tuning, sets.evaluation):
        assert {d.language for d in docs} == {"en", "de", "fr", "es"}
        assert {d.label for d in docs} == set(sets.labels)
        assert {d.sentiment for d in docs} == {"positive", "neutral", "negative"}
    # Every evaluation document is judged on everything, entities and summary included.
    assert all(d.entities is not None and d.summary for d in sets.evaluation)
    # No document is in both sets, not even under another id.
    assert not {d.text for d in sets.tuning} & {d.text for d in sets.evaluation}
    assert measured.evaluation.entity_documents == len(sets.evaluation)
    assert measured.evaluation.summary_documents == len(sets.evaluation)


# Bars the evaluation set misses today, as README says ("Offline intelligence"), each with the
# floor it may not fall below. Sentiment is one document short (58 of 84; the bar needs 59); a
# neutral band fitted to the 52 later tuning documents scored 56 and was reverted (README).
SHORTFALLS = {"sentiment_accuracy": 58 / 84}


def test_intelligence_evaluation_set_meets_the_bars(measured: Measured) -> None:
    shown = report(measured)
    print(shown)
    missed = missed_bars(measured.evaluation)
    # A new miss fails; so does a shortfall closed, until README and SHORTFALLS say so.
    assert set(missed) == set(SHORTFALLS), shown
    for name, floor in SHORTFALLS.items():
        assert missed[name][0] >= floor - 1e-9, shown


def test_intelligence_readme_quotes_the_current_table(measured: Measured) -> None:
    quoted = read_block(README.read_text(encoding="utf-8"), README_BLOCK)
    assert quoted == "```text\n" + report(measured) + "\n```\n", (
        "README's offline intelligence table is not what the rules give now; run "
        "`quarry quality intelligence --readme README.md` and commit the result"
    )


def test_quarry_quality_intelligence_prints_both_sets_side_by_side(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["quality", "intelligence", str(SET), "--misses", "none"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split() == ["tuning", "evaluation", "bar", "(evaluation)"]
    assert lines[2].split() == ["documents", "121", "84"]
    assert lines[-1].startswith("evaluation set: sha256 4f20c621cb7047c5")
    assert lines[-1].endswith("matches evaluation.sha256 (frozen)")
    tuning_misses = runner.invoke(app, ["quality", "intelligence", str(SET)])
    assert "misses on the tuning set (gold→predicted):" in tuning_misses.output

    missing = runner.invoke(app, ["quality", "intelligence", str(tmp_path)])
    assert missing.exit_code == 2
    assert f"cannot read the labelled sets in {tmp_path}" in missing.output

    # An edited evaluation set still prints, says so, and fails the command.
    edited = tmp_path / "edited"
    shutil.copytree(SET, edited)
    with (edited / "evaluation.jsonl").open("a", encoding="utf-8") as f:
        f.write("\n")
    changed = runner.invoke(app, ["quality", "intelligence", str(edited), "--misses", "none"])
    assert changed.exit_code == 1
    assert "evaluation set: MODIFIED" in changed.output.splitlines()[-1]


def test_quarry_quality_intelligence_writes_the_readme_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# x\n<!-- {README_BLOCK}:begin -->\nold\n<!-- {README_BLOCK}:end -->\n", encoding="utf-8"
    )
    runner = CliRunner()
    args = ["quality", "intelligence", str(SET), "--misses", "none", "--readme", str(readme)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    block = read_block(readme.read_text(encoding="utf-8"), README_BLOCK)
    assert block == "```text\n" + report(measure(load(SET))) + "\n```\n"
    assert runner.invoke(app, [*args[:-1], str(tmp_path / "absent.md")]).exit_code == 2

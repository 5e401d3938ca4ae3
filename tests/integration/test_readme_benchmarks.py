"""README's benchmark figures all come from one committed report of one `quarry bench all` run
(docs/bench/report.json), written into README by `quarry bench readme`."""

import json
import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from tools.bench.checks import validate
from tools.bench.readme import BLOCK, REPORT, render
from tools.bench.registry import BENCHMARKS
from tools.bench.report import Report
from tools.readme_blocks import read_block

ROOT = Path(__file__).parent.parent.parent
README = ROOT / "README.md"
# A benchmark figure: a throughput, or a ratio written as "1.09×".
FIGURE = re.compile(r"\d[\d,.]*\s?(?:req/s|docs/s|documents/s|pages/s|msgs/s)|\d\.\d+\s?×")
GENERATED = re.compile(r"<!-- ([\w-]+):begin.*?<!-- \1:end -->", re.S)


def _committed() -> Report:
    return validate(json.loads((ROOT / f"{REPORT}.json").read_text(encoding="utf-8")))


def test_committed_bench_report_is_one_whole_run_with_its_markdown() -> None:
    report = _committed()
    measured = [b.name for b in report.benchmarks]
    assert measured == [name for name in BENCHMARKS if name not in report.skipped], (
        "docs/bench/report.json must hold every benchmark of one `quarry bench all` run,"
        " or name the ones it left out"
    )
    markdown = (ROOT / f"{REPORT}.md").read_text(encoding="utf-8")
    assert markdown == report.to_markdown(), "docs/bench/report.md is not the .json's table"


def test_readme_benchmarks_are_the_committed_report() -> None:
    quoted = read_block(README.read_text(encoding="utf-8"), BLOCK)
    assert quoted == render(_committed()) + "\n", (
        "README's Benchmarks table is not docs/bench/report.json; run `quarry bench readme`"
    )


def test_readme_quotes_no_benchmark_figure_outside_the_report_block() -> None:
    outside = GENERATED.sub("", README.read_text(encoding="utf-8"))
    stray = [line for line in outside.splitlines() if FIGURE.search(line)]
    assert stray == [], (
        "README quotes benchmark figures outside the table written from docs/bench/report.json;"
        " refer to the table instead:\n" + "\n".join(stray)
    )


def test_quarry_bench_readme_writes_the_block_from_a_report(tmp_path: Path) -> None:
    for suffix in (".json", ".md"):
        shutil.copy(ROOT / f"{REPORT}{suffix}", tmp_path / f"run{suffix}")
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n<!-- {BLOCK}:begin -->\nold\n<!-- {BLOCK}:end -->\n", encoding="utf-8")
    runner = CliRunner()
    args = ["bench", "readme", "--report", str(tmp_path / "run"), "--readme", str(readme)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    written = read_block(readme.read_text(encoding="utf-8"), BLOCK)
    assert written == render(_committed(), tmp_path / "run") + "\n"

    before = readme.read_text(encoding="utf-8")
    (tmp_path / "run.json").write_text('{"created": "now"}', encoding="utf-8")
    broken = runner.invoke(app, args)
    assert broken.exit_code == 2
    shown = " ".join(broken.output.split())  # rich wraps the message at the terminal's width
    assert "the report is malformed: machine: Field required" in shown
    assert readme.read_text(encoding="utf-8") == before  # a bad report changes nothing

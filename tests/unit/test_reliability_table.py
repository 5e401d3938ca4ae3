"""README's Reliability table names, per row, the tests that assert it: every name resolves to a
test function in a file of tests/ (the table owns the names; this test checks they exist)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def reliability_rows(readme: str) -> list[list[str]]:
    """The cells of each body row of the first table under '## Reliability'."""
    section = readme.split("\n## Reliability\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header, rule, *body = lines
    assert set(rule.replace("|", "").split()) <= {"---"}, f"not a table rule: {rule}"
    width = header.count("|")
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in body]
    for line in body:
        assert line.count("|") == width, f"a row with other columns than the header: {line}"
    return rows


def defined_tests(path: Path) -> set[str]:
    """The module-level test functions of a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return {n.name for n in tree.body if isinstance(n, kinds) and n.name.startswith("test_")}


def test_reliability_table_header_ends_with_the_test_column() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Reliability\n", 1)[1]
    header = next(line for line in section.splitlines() if line.startswith("|"))
    assert header == "| fault | what happens | asserted | test |"


@pytest.mark.parametrize(
    "row", reliability_rows((ROOT / "README.md").read_text(encoding="utf-8")), ids=lambda r: r[0]
)
def test_reliability_row_names_tests_that_exist(row: list[str]) -> None:
    named = NODE.findall(row[-1])
    assert named, f"row {row[0]!r} names no test as tests/<file>.py::test_<name>: {row[-1]!r}"
    assert NODE.sub("", row[-1]).strip(" ,") == "", f"row {row[0]!r}: not only test names"
    for file, name in named:
        path = ROOT / file
        assert path.is_file(), f"row {row[0]!r} names {file}, which does not exist"
        assert name in defined_tests(path), f"row {row[0]!r}: {file} has no {name}"


def test_a_misspelt_name_would_not_resolve() -> None:
    path = ROOT / "tests/stack/test_zz_faults.py"
    assert "test_faults_poison_message_is_attempted_max_receive_times_then_dead_lettered" in (
        defined_tests(path)
    )
    assert "test_faults_poison_message_is_attempted" not in defined_tests(path)

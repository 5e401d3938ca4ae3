"""Every run is created by shared/runs.py (start_run() and start_run_in()), which writes the run
and its first dispatch to the outbox in one transaction: no other module builds a Run row or
inserts into the runs table, so no path can accept a run whose dispatch a crash could lose."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("functions", "shared", "dashboard", "emulator", "tools", "cli")
OWNER = Path("shared/runs.py")


def _creates_runs(tree: ast.AST) -> list[int]:
    """Lines that call Run(...) or insert(Run)."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else None
        name = node.func.id if isinstance(node.func, ast.Name) else name
        args = [a.id for a in node.args if isinstance(a, ast.Name)]
        if name == "Run" or (name == "insert" and "Run" in args):
            lines.append(node.lineno)
    return lines


def test_run_creation_only_in_shared_runs() -> None:
    found: dict[str, list[int]] = {}
    checked = 0
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            lines = _creates_runs(ast.parse(path.read_text(), str(relative)))
            checked += 1
            if lines and relative != OWNER:
                found[str(relative)] = lines
    assert checked > 50
    assert found == {}, "create runs through shared.runs.start_run() (or start_run_in())"
    assert _creates_runs(ast.parse((ROOT / OWNER).read_text())) != []  # the scan sees them

"""The docs function ships without the dependencies layer (`layers: []`): everything it imports
is the standard library or a module of ours that its package patterns list, so it cannot fail
at cold start with an ImportError that the emulator, which has the whole venv, would hide."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from emulator.table import read_document
from tests.conftest import ROOT

OURS = {"shared", "functions", "dashboard", "emulator", "tools", "cli"}


def _module_file(name: str) -> Path:
    base = ROOT.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _closure(start: str) -> tuple[set[Path], set[str]]:
    """Our files `start` imports (with their packages' __init__), and the other top-level names."""
    files: set[Path] = set()
    others: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a/ and a/b/ first
            path = _module_file(".".join(parts[:depth]))
            if path in files:
                continue
            files.add(path)
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    mod = node.module
                    names = [
                        f"{mod}.{a.name}"
                        for a in node.names
                        if _module_file(f"{mod}.{a.name}").exists()
                    ] or [mod]
                else:
                    continue
                for imported in names:
                    if imported.split(".")[0] in OURS:
                        todo.append(imported)
                    else:
                        others.add(imported.split(".")[0])
    return files, others


def test_docs_package_imports_only_the_standard_library_and_what_it_packages() -> None:
    docs = read_document(ROOT / "serverless.yml")["functions"]["docs"]
    assert docs["layers"] == []
    patterns = set(docs["package"]["patterns"])
    files, others = _closure("functions.api.docs")
    assert others - {"__future__"} <= set(sys.stdlib_module_names), others
    relative = {str(f.relative_to(ROOT)) for f in files}
    assert "shared/problems.py" in relative  # the closure is followed, not just the handler
    assert relative <= patterns, f"not packaged with docs: {sorted(relative - patterns)}"

"""README's Python examples compile, and every name they import from the project exists."""

from __future__ import annotations

import ast
import importlib
import re

from tests.conftest import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_python_examples() -> None:
    assert BLOCKS


def test_each_example_compiles_and_imports_what_exists() -> None:
    for block in BLOCKS:
        tree = ast.parse(block)  # a SyntaxError names the line
        seen: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{node.module} has no {alias.name}"
                    assert alias.name not in seen, f"{alias.name} imported twice"
                    seen.add(alias.name)

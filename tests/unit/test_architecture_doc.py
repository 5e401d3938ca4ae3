"""README and docs/architecture.md stay true to the repository: they point at nothing outside
it, README links the architecture, and every file or folder the architecture names exists."""

from __future__ import annotations

import re

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
PATH = re.compile(r"`((?:functions|shared|dashboard|emulator|tools|cli|infra|tests)/[\w./-]*)`")


def test_architecture_docs_reference_nothing_outside_the_repository() -> None:
    assert ARCHITECTURE in DOCS
    outside = [
        f"{doc.name}: {line.strip()}"
        for doc in DOCS
        for line in doc.read_text().splitlines()
        if "../" in line or re.search(r"(?<![\w.])/(work|home|root|tmp)/", line)
    ]
    assert outside == []


def test_architecture_readme_links_the_architecture() -> None:
    assert "](docs/architecture.md)" in (ROOT / "README.md").read_text()


def test_architecture_names_only_paths_that_exist() -> None:
    named = set(PATH.findall(ARCHITECTURE.read_text()))
    assert len(named) > 25
    missing = sorted(p for p in named if not (ROOT / p.rstrip("/")).exists())
    assert missing == []

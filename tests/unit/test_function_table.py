"""The dashboard's function table is data packaged with it (dashboard/functions.json), kept
equal to what serverless.yml declares, and read without the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.function_table import PATH, load, render, rows_of
from dashboard.pages.functions import trigger_of
from emulator.table import load_table
from shared.errors import ConfigError
from tests.conftest import ROOT


def test_function_table_matches_serverless_yml() -> None:
    declared = render(rows_of(load_table(ROOT / "serverless.yml").functions.values()))
    assert PATH.read_text() == declared, (
        "dashboard/functions.json is stale: run `quarry table --write`"
    )


def test_function_table_reads_back_what_the_page_shows() -> None:
    rows = {r.name: r for r in load()}
    assert trigger_of(rows["extraction"]) == "SQS queue"
    assert trigger_of(rows["docs"]).startswith("GET /api/openapi.json · GET /api/docs")
    assert rows["intelligence"].reserved_concurrency == 4


def test_function_table_names_the_fix_when_the_file_is_damaged(tmp_path: Path) -> None:
    broken = tmp_path / "functions.json"
    broken.write_text('[{"name": "x"}]')
    with pytest.raises(ConfigError, match="run `quarry table --write`"):
        load(broken)

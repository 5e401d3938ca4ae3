"""The README's settings table is rendered from Settings and kept in step with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import Settings
from shared.settings_doc import END, START, settings_table, sync_readme

README = Path(__file__).resolve().parents[2] / "README.md"


def test_settings_doc_readme_table_is_in_step_with_settings() -> None:
    text = README.read_text(encoding="utf-8")
    region = text.partition(START)[2].partition(END)[0]
    assert region == f"\n{settings_table()}", (
        "README.md's settings table differs from Settings; "
        "run `python -m shared.settings_doc` to rewrite it"
    )


def test_settings_doc_table_has_a_row_per_setting_and_hides_secrets() -> None:
    lines = settings_table().splitlines()
    assert lines[:2] == [
        "| variable | type | default | description |",
        "| --- | --- | --- | --- |",
    ]
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        f"| `QUARRY_{name.upper()}`" for name in Settings.model_fields
    ]
    assert (
        "| `QUARRY_SECRET_KEY` | secret string | (secret) | Signs list cursors and CSRF tokens "
        "and seals webhook secrets; outside dev and test, at least 32 random bytes (`quarry up` "
        "makes one). |"
    ) in lines
    assert Settings().secret_key.get_secret_value() not in settings_table()
    assert "| `QUARRY_FETCH_TIMEOUT_S` | number, > 0, ≤ 120 | `10.0` | " in settings_table()
    assert "| `QUARRY_QUEUE` | one of `memory`, `redis`, `sqs` | `memory` | " in settings_table()
    assert "| `QUARRY_REDIS_URL` | string, optional | unset | " in settings_table()


def test_settings_doc_sync_replaces_only_the_marked_region() -> None:
    text = f"# Title\n\nIntro.\n\n{START}\n| stale | table |\n{END}\n\n## Tests\n"
    synced = sync_readme(text)
    assert synced == f"# Title\n\nIntro.\n\n{START}\n{settings_table()}{END}\n\n## Tests\n"
    assert sync_readme(synced) == synced


def test_settings_doc_sync_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="no <!-- settings-table:start -->"):
        sync_readme("# Title\n\nNo table here.\n")

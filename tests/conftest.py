"""Shared fixtures: settings for a throwaway embedded platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {
            "QUARRY_ENV": "test",
            "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/quarry.db",
            "QUARRY_SECRET_KEY": "test-secret-that-must-never-leak-0123456789",
        }
    )

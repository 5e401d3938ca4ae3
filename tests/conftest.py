"""Shared fixtures: settings for a throwaway embedded platform."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import Settings
from shared.config_load import load_settings

ROOT = Path(__file__).resolve().parent.parent

# Mangum(app) asks for the thread's event loop when a handler module is imported; give the
# main thread one that the suite owns and closes, instead of one nobody closes.
MAIN_LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(MAIN_LOOP)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    MAIN_LOOP.close()


@pytest.fixture(autouse=True)
def _main_loop_restored() -> Iterator[None]:
    """pytest-asyncio unsets the thread's loop after an async test; put the suite's back, so a
    handler module imported later by a sync test never makes a loop that nobody closes (its
    self-pipe socket would warn, as an error, in whatever test the collector runs in)."""
    yield
    asyncio.set_event_loop(MAIN_LOOP)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {
            "QUARRY_ENV": "test",
            "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/quarry.db",
            "QUARRY_SECRET_KEY": "test-secret-that-must-never-leak-0123456789",
            "QUARRY_RETRY_BACKOFF_S": "0.01",
        }
    )

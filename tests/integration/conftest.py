"""The embedded platform for integration tests, with the demo site served on loopback."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from emulator.demo import serve_site
from emulator.gateway import Gateway
from emulator.platform import Embedded, embedded
from shared.config import Settings
from shared.db import migrate
from tests.conftest import ROOT


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once per session: the template each test copies."""
    path = tmp_path_factory.mktemp("template") / "quarry.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    leftovers = [p.name for p in path.parent.iterdir() if p != path]
    assert not leftovers, f"the migrated template left {leftovers} beside it"
    return path


@pytest.fixture
def settings(settings: Settings, migrated_sqlite: Path) -> Settings:
    """The shared test settings, their database a copy of the session's migrated template (the
    platform's own upgrade then finds it at head), instead of a migration per test."""
    database = make_url(settings.database_url).database
    assert database, settings.database_url
    shutil.copyfile(migrated_sqlite, database)
    return settings


@pytest.fixture(scope="session")
def demo_site() -> Iterator[str]:
    with serve_site() as base:
        yield base


@pytest.fixture
async def platform(settings: Settings, demo_site: str) -> AsyncIterator[Embedded]:
    host = demo_site.split("//", 1)[1]
    cfg = settings.model_copy(update={"fetch_allow_hosts": (host,)})
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as p:
        yield p


@pytest.fixture
async def client(platform: Embedded) -> AsyncIterator[httpx.AsyncClient]:
    """The API through the gateway's Lambda-event path, as a user reaches it."""
    transport = httpx.ASGITransport(app=platform.gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://quarry.test") as c:
        yield c


@pytest.fixture
async def direct(platform: Embedded) -> AsyncIterator[httpx.AsyncClient]:
    """The same functions through their ASGI apps directly."""
    gateway = Gateway(platform.table, mode="asgi")
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://quarry.test") as c:
        yield c
    gateway.executor.shutdown()


async def poll(what: str, check: Callable[[], Awaitable[Any]], deadline_s: float = 30.0) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` at the deadline."""
    end = time.monotonic() + deadline_s
    last: Any = None
    while time.monotonic() < end:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {deadline_s}s waiting for {what}; last: {last!r}")

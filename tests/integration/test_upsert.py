"""The stage-result upsert on SQLite and Postgres: the same key twice leaves one, updated, row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from shared.db.engine import SqlDatabase
from shared.db.models import Document, Run, Source, StageResult
from shared.db.upsert import upsert

pytest_plugins = ("tests.integration.pg",)

KEY = ("run_id", "document_id", "stage")


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"migrated_{request.param}_url")
    return url


async def test_upsert_same_stage_result_key_twice_keeps_one_row(migrated_url: str) -> None:
    first = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    second = datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
    key = {"run_id": "r1", "document_id": "d1", "stage": "extraction"}
    db = SqlDatabase(migrated_url)
    try:
        async with db.writer() as session:
            session.add(Source(id="s1", name="Example", kind="sitemap"))
            await session.flush()
            session.add_all(
                [Run(id="r1", source_id="s1"), Document(id="d1", source_id="s1", url="u")]
            )
        async with db.writer() as session:
            values = {"status": "failed", "detail": "timeout", "updated_at": first}
            await upsert(session, StageResult, {**key, **values}, KEY)
        async with db.writer() as session:
            values = {"status": "succeeded", "detail": None, "updated_at": second}
            await upsert(session, StageResult, {**key, **values}, KEY)
        async with db.reader() as session:
            rows = (await session.execute(select(StageResult))).scalars().all()
    finally:
        await db.dispose()
    assert [(r.run_id, r.document_id, r.stage, r.status, r.detail, r.updated_at) for r in rows] == [
        ("r1", "d1", "extraction", "succeeded", None, second)
    ]

"""Discovery's database work: what it reads of a run's source before reading the source
itself, and the run's documents it writes after."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Document, Run, Source, new_id, utcnow
from shared.db.upsert import CHUNK, upsert_many


@dataclass(frozen=True)
class SourceToRead:
    """A source as discovery reads it, detached from the session that loaded it."""

    id: str
    kind: str
    url: str | None
    urls: list[str]
    crawl: dict[str, Any] | None
    last_success: datetime | None  # its latest succeeded run's start, this run aside


async def source_to_read(session: AsyncSession, source_id: str, run_id: str) -> SourceToRead | None:
    source = await session.get(Source, source_id)
    if source is None:
        return None
    last = await session.scalar(
        select(Run.created_at)
        .where(Run.source_id == source_id, Run.state == "succeeded", Run.id != run_id)
        .order_by(Run.created_at.desc())
        .limit(1)
    )
    return SourceToRead(source.id, source.kind, source.url, list(source.urls), source.crawl, last)


async def seed(session: AsyncSession, source_id: str, urls: Sequence[str]) -> dict[str, str]:
    """The source's document for each URL, created where new; URL → document id. A URL
    seen in an earlier run keeps its document (and what was extracted from it)."""
    now = utcnow()
    rows = [{"id": new_id(), "source_id": source_id, "url": u, "updated_at": now} for u in urls]
    await upsert_many(session, Document, rows, ("source_id", "url"), ("updated_at",))
    ids: dict[str, str] = {}
    for start in range(0, len(urls), CHUNK):
        found = await session.execute(
            select(Document.id, Document.url).where(
                Document.source_id == source_id, Document.url.in_(list(urls[start : start + CHUNK]))
            )
        )
        ids.update({url: doc_id for doc_id, url in found.all()})
    return ids

"""Runs started by webhooks: through start_run(), optionally for the URLs a payload names."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox, results, runs
from shared.db.models import Document, Outbox, Run, new_id, utcnow
from shared.db.upsert import upsert
from shared.messages import ExtractDocument
from shared.pipeline.urls import normalize_url


async def start_in(
    session: AsyncSession, source_id: str, urls: list[str] | None, *, max_active: int
) -> tuple[Run, list[int]]:
    """Start a `webhook` run in the caller's transaction; returns the outbox rows to flush.

    With `urls`, the payload already said which documents changed (a CMS "published"
    event): the run covers exactly those, so discovery's part (documents and their
    discovery results) is written here and the first dispatch goes to extraction instead.
    """
    run, ids = await runs.start_run_in(session, source_id, "webhook", max_active=max_active)
    if urls is None:
        return run, ids
    await session.execute(update(Outbox).where(Outbox.id.in_(ids)).values(sent_at=utcnow()))
    wanted = list(dict.fromkeys(normalize_url(url) for url in urls))
    for url in wanted:
        await upsert(
            session,
            Document,
            {"id": new_id(), "source_id": source_id, "url": url, "updated_at": utcnow()},
            key=("source_id", "url"),
            update=("updated_at",),
        )
    rows = await session.execute(
        select(Document.id, Document.url).where(
            Document.source_id == source_id, Document.url.in_(wanted)
        )
    )
    by_url = {url: doc_id for doc_id, url in rows}
    for url in wanted:
        await results.record(session, run.id, by_url[url], "discovery", "succeeded")
    await runs.mark_running(session, run.id, len(wanted))
    bodies = [
        ExtractDocument(
            run_id=run.id, source_id=source_id, document_id=by_url[url], url=url
        ).model_dump()
        for url in wanted
    ]
    return run, await outbox.add(session, run.id, "extraction", bodies)

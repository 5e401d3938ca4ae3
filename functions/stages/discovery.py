"""Discovery stage: source → candidate documents; hands each to extraction."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import results, runs
from shared.db.models import Document, Run, Source, new_id, utcnow
from shared.db.upsert import upsert
from shared.discovery import crawl_options, discover
from shared.fetch import FetchError
from shared.handlers.stage import StageDeps, stage
from shared.logs import get_logger
from shared.messages import DiscoverSource, ExtractDocument

log = get_logger("quarry.discovery")


@stage("discovery", next="extraction")
async def handler(msg: DiscoverSource, deps: StageDeps) -> list[ExtractDocument]:
    session = deps.session
    if await session.scalar(select(Run.discovered).where(Run.id == msg.run_id)) is not None:
        return []  # delivered again after its commit: the documents were dispatched then
    source = await session.get(Source, msg.source_id)
    if source is None:
        await runs.fail(session, msg.run_id, f"source {msg.source_id} no longer exists")
        return []
    since = await _last_success(session, source.id, msg.run_id)
    try:
        report = await discover(
            deps.fetcher,
            source.kind,
            source.url,
            list(source.urls),
            since=since,
            options=crawl_options(source.crawl),
        )
    except FetchError as exc:
        await runs.fail(session, msg.run_id, exc.detail)
        return []
    urls = report.urls
    for url in urls:
        await upsert(
            session,
            Document,
            {"id": new_id(), "source_id": source.id, "url": url, "updated_at": utcnow()},
            key=("source_id", "url"),
            update=("updated_at",),
        )
    rows = await session.execute(
        select(Document.id, Document.url).where(
            Document.source_id == source.id, Document.url.in_(urls)
        )
    )
    by_url = {url: doc_id for doc_id, url in rows}
    for url in urls:
        await results.record(session, msg.run_id, by_url[url], "discovery", "succeeded")
    await runs.mark_running(session, msg.run_id, len(urls))
    reasons = Counter(reason.split(" (", 1)[0].split(": ", 1)[0] for _, reason in report.skipped)
    log.info(
        "discovered",
        extra={
            "run_id": msg.run_id,
            "documents": len(urls),
            "skipped": len(report.skipped),
            "skipped_by_reason": dict(reasons.most_common(10)),
        },
    )
    return [
        ExtractDocument(run_id=msg.run_id, source_id=source.id, document_id=by_url[url], url=url)
        for url in urls
    ]


async def _last_success(session: AsyncSession, source_id: str, run_id: str) -> datetime | None:
    """When the source's latest succeeded run (other than this one) began: sitemap entries
    not modified since then are left out as unchanged."""
    return await session.scalar(
        select(Run.created_at)
        .where(Run.source_id == source_id, Run.state == "succeeded", Run.id != run_id)
        .order_by(Run.created_at.desc())
        .limit(1)
    )

"""Discovery stage: a run's source → its documents, each handed to the next stage."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession

from shared.discovery import crawl_options, discover
from shared.fetch import FetchError
from shared.handlers.stage import StageDeps, stage
from shared.logs import get_logger
from shared.messages import DiscoverSource, ExtractDocument
from shared.outcome import Outcome, Result, failed, succeeded
from shared.pipeline.urls import normalize_url
from shared.repo import discovery

log = get_logger("quarry.discovery")


@stage("discovery")
async def handler(msg: DiscoverSource, deps: StageDeps) -> Result:
    async with deps.read() as session:
        source = await discovery.source_to_read(session, msg.source_id, msg.run_id)
    if source is None:
        return failed(f"source {msg.source_id} no longer exists")
    if msg.urls is not None:  # a webhook named the pages: exactly those, nothing read
        urls = list(dict.fromkeys(normalize_url(url) for url in msg.urls))
    else:
        try:
            report = await discover(
                deps.fetcher,
                source.kind,
                source.url,
                source.urls,
                since=source.last_success,
                options=crawl_options(source.crawl),
            )
        except FetchError as exc:
            return failed(exc.detail)
        urls = report.urls
        reasons = Counter(r.split(" (", 1)[0].split(": ", 1)[0] for _, r in report.skipped)
        log.info(
            "discovered",
            extra={
                "run_id": msg.run_id,
                "documents": len(urls),
                "skipped": len(report.skipped),
                "skipped_by_reason": dict(reasons.most_common(10)),
            },
        )

    async def write(session: AsyncSession) -> Outcome:
        ids = await discovery.seed(session, source.id, urls)
        return succeeded(
            *(
                ExtractDocument(run_id=msg.run_id, source_id=source.id, document_id=ids[u], url=u)
                for u in urls
            )
        )

    return write

"""Extraction stage: fetched page → main text and metadata; hands the document on."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.fetch import FetchError
from shared.handlers.stage import StageDeps, stage
from shared.messages import AnalyseDocument, ExtractDocument
from shared.outcome import Outcome, Result, failed, skipped, succeeded
from shared.pipeline.extract import extract, has_main_text
from shared.repo import extraction


@stage("extraction")
async def handler(msg: ExtractDocument, deps: StageDeps) -> Result:
    async with deps.read() as session:
        doc = await extraction.known(session, msg.document_id, msg.run_id)
    if doc is None:
        return skipped("the document no longer exists")
    try:
        page = await deps.fetcher.get(msg.url, headers=doc.validators())
    except FetchError as exc:  # blocked, too_large, timeout, unreachable, ...: an outcome
        return failed(f"{exc.outcome}: {exc.detail}")
    unchanged = skipped(f"unchanged since run {doc.analysed_in}")
    fetched = {"etag": page.etag, "last_modified": page.last_modified}
    if page.status == 304 and doc.analysed_in:
        return _noting(doc.id, fetched, None, unchanged)
    if page.status >= 400:
        refused = failed(f"http_error: HTTP {page.status} from {page.url}")
        return _noting(doc.id, fetched, page.status, refused)
    ex = extract(page.text, page.url)
    if doc.analysed_in and ex.content_hash == doc.content_hash:
        return _noting(doc.id, fetched, page.status, unchanged)

    async def write(session: AsyncSession) -> Outcome:
        await extraction.note_fetch(session, doc.id, status_code=page.status, **fetched)
        await extraction.store(session, doc.id, ex)
        if not has_main_text(ex):
            return skipped("no main text")
        duplicate_of = await extraction.mark_near_duplicate(session, doc, ex.simhash)
        if duplicate_of:
            return skipped(f"near-duplicate of document {duplicate_of}")
        return succeeded(
            AnalyseDocument(run_id=msg.run_id, source_id=msg.source_id, document_id=doc.id)
        )

    return write


def _noting(
    document_id: str, fetched: dict[str, str | None], status: int | None, outcome: Outcome
) -> Result:
    """`outcome`, once the fetch is noted on the document."""

    async def write(session: AsyncSession) -> Outcome:
        await extraction.note_fetch(session, document_id, status_code=status, **fetched)
        return outcome

    return write

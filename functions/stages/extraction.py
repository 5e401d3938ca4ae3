"""Extraction stage: fetched page → main text and metadata; hands the document to intelligence."""

from __future__ import annotations

from sqlalchemy import select, text

from shared import results
from shared.db.models import Document, Insight, utcnow
from shared.fetch import FetchError
from shared.handlers.stage import StageDeps, stage
from shared.messages import AnalyseDocument, ExtractDocument
from shared.pipeline.extract import extract, has_main_text
from shared.pipeline.similarity import is_near_duplicate, to_signed64

STAGE = "extraction"
# Article-length pages that differ in a sentence or two land within ~10 bits of 64;
# unrelated pages sit near 32 (measured on the demo site: 9 vs 35).
NEAR_DUPLICATE_BITS = 10


@stage(STAGE, next="intelligence")
async def handler(msg: ExtractDocument, deps: StageDeps) -> AnalyseDocument | None:
    session = deps.session
    if await results.outcome(session, msg.run_id, msg.document_id, STAGE):
        return None
    doc = await session.get(Document, msg.document_id)
    if doc is None:
        return None
    analysed_in = await _analysed_in(deps, doc.id, msg.run_id)
    try:  # validators only when an earlier run analysed the stored text
        page = await deps.fetcher.get(msg.url, headers=_validators(doc) if analysed_in else None)
    except FetchError as exc:  # blocked, too_large, timeout, unreachable, ...: an outcome
        detail = f"{exc.outcome}: {exc.detail}"
        await results.record(session, msg.run_id, msg.document_id, STAGE, "failed", detail)
        return None
    doc.fetched_at = doc.updated_at = utcnow()
    doc.etag, doc.last_modified = page.etag or doc.etag, page.last_modified or doc.last_modified
    if page.status == 304 and analysed_in:
        await _unchanged(deps, msg, analysed_in)
        return None
    doc.status_code = page.status
    if page.status >= 400:
        detail = f"http_error: HTTP {page.status} from {page.url}"
        await results.record(session, msg.run_id, doc.id, STAGE, "failed", detail)
        return None
    ex = extract(page.text, page.url)
    if analysed_in and ex.content_hash == doc.content_hash:
        await _unchanged(deps, msg, analysed_in)
        return None
    doc.title, doc.author, doc.published = ex.title, ex.author, ex.published
    doc.language, doc.canonical_url, doc.site_name = ex.language, ex.canonical_url, ex.site_name
    doc.text, doc.markdown = ex.text, ex.markdown
    doc.content_hash, doc.simhash = ex.content_hash, to_signed64(ex.simhash)
    if not has_main_text(ex):
        await results.record(session, msg.run_id, doc.id, STAGE, "skipped", "no main text")
        return None
    doc.duplicate_of = await _near_duplicate(deps, doc)
    if doc.duplicate_of:
        detail = f"near-duplicate of document {doc.duplicate_of}"
        await results.record(session, msg.run_id, doc.id, STAGE, "skipped", detail)
        return None
    await results.record(session, msg.run_id, doc.id, STAGE, "succeeded")
    return AnalyseDocument(run_id=msg.run_id, source_id=msg.source_id, document_id=doc.id)


def _validators(doc: Document) -> dict[str, str]:
    """Conditional-GET headers from what the last response said about this page."""
    headers = {}
    if doc.etag:
        headers["if-none-match"] = doc.etag
    if doc.last_modified:
        headers["if-modified-since"] = doc.last_modified
    return headers


async def _analysed_in(deps: StageDeps, document_id: str, run_id: str) -> str | None:
    """The latest earlier run that produced insights for this document, if any."""
    return await deps.session.scalar(
        select(Insight.run_id)
        .where(Insight.document_id == document_id, Insight.run_id != run_id)
        .order_by(Insight.id.desc())
        .limit(1)
    )


async def _unchanged(deps: StageDeps, msg: ExtractDocument, analysed_in: str) -> None:
    """The page is what an earlier run already analysed: it does not re-enter the pipeline."""
    detail = f"unchanged since run {analysed_in}"
    await results.record(deps.session, msg.run_id, msg.document_id, STAGE, "skipped", detail)


async def _near_duplicate(deps: StageDeps, doc: Document) -> str | None:
    """Another document of the same source with nearly the same text, if any.

    The document's own update is flushed first, which serialises this check between
    writers (SQLite's write lock; a per-source advisory lock on Postgres), so of two
    near-identical pages extracted at once exactly one is marked the duplicate.
    """
    assert doc.simhash is not None
    session = deps.session
    await session.flush()
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": doc.source_id}
        )
    rows = await session.execute(
        select(Document.id, Document.simhash).where(
            Document.source_id == doc.source_id,
            Document.id != doc.id,
            Document.simhash.is_not(None),
            Document.duplicate_of.is_(None),
        )
    )
    for other_id, other_hash in rows:
        if other_hash is not None and is_near_duplicate(
            doc.simhash, other_hash, NEAR_DUPLICATE_BITS
        ):
            return other_id
    return None

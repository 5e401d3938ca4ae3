"""Extraction's database work: what it knows of a page before fetching it, what it stores
after, and the near-duplicate check among the source's documents."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Document, Insight, utcnow
from shared.pipeline.extract import Extracted
from shared.pipeline.similarity import is_near_duplicate, to_signed64

# Article-length pages that differ in a sentence or two land within ~10 bits of 64;
# unrelated pages sit near 32 (measured on the demo site: 9 vs 35).
NEAR_DUPLICATE_BITS = 10


@dataclass(frozen=True)
class Known:
    """What the last fetch of a page left: its validators, its text's hash, and the latest
    earlier run that analysed it (None: never analysed, so always fetched in full)."""

    id: str
    source_id: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    analysed_in: str | None

    def validators(self) -> dict[str, str] | None:
        """Conditional-GET headers, only when an earlier run analysed the stored text."""
        if self.analysed_in is None:
            return None
        headers = {}
        if self.etag:
            headers["if-none-match"] = self.etag
        if self.last_modified:
            headers["if-modified-since"] = self.last_modified
        return headers


async def known(session: AsyncSession, document_id: str, run_id: str) -> Known | None:
    """The page's row and its latest earlier analysis, in one query (one round trip)."""
    analysed_in = (
        select(Insight.run_id)
        .where(Insight.document_id == Document.id, Insight.run_id != run_id)
        .order_by(Insight.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(
                Document.id,
                Document.source_id,
                Document.etag,
                Document.last_modified,
                Document.content_hash,
                analysed_in,
            ).where(Document.id == document_id)
        )
    ).one_or_none()
    return None if row is None else Known(*row)


async def note_fetch(
    session: AsyncSession,
    document_id: str,
    *,
    etag: str | None,
    last_modified: str | None,
    status_code: int | None = None,
) -> None:
    """Record that the page was fetched, with what the response said of it (a 304 keeps the
    stored status code: the stored text is still the page's)."""
    values: dict[str, object] = {"fetched_at": utcnow(), "updated_at": utcnow()}
    if etag:
        values["etag"] = etag
    if last_modified:
        values["last_modified"] = last_modified
    if status_code is not None:
        values["status_code"] = status_code
    await session.execute(update(Document).where(Document.id == document_id).values(**values))


async def store(session: AsyncSession, document_id: str, ex: Extracted) -> None:
    """The page's main text and metadata, as extracted."""
    await session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(
            title=ex.title,
            author=ex.author,
            published=ex.published,
            language=ex.language,
            canonical_url=ex.canonical_url,
            site_name=ex.site_name,
            text=ex.text,
            markdown=ex.markdown,
            content_hash=ex.content_hash,
            simhash=to_signed64(ex.simhash),
            duplicate_of=None,
        )
    )


async def mark_near_duplicate(session: AsyncSession, doc: Known, simhash: int) -> str | None:
    """Another document of the same source with nearly the same text, if any; the document
    is then marked its duplicate.

    Called after `store()` in the same transaction, whose update serialises this check
    between writers (SQLite's write lock; a per-source advisory lock on Postgres), so of two
    near-identical pages extracted at once exactly one is marked the duplicate. The source's
    originals are read once per transaction, however many of its documents the batch holds.
    """
    signed = to_signed64(simhash)
    originals = await _originals(session, doc.source_id)
    originals.pop(doc.id, None)  # its own row, as stored before (or just now)
    for other_id, other_hash in originals.items():
        if is_near_duplicate(signed, other_hash, NEAR_DUPLICATE_BITS):
            await session.execute(
                update(Document).where(Document.id == doc.id).values(duplicate_of=other_id)
            )
            return other_id
    originals[doc.id] = signed  # an original: the batch's later documents compare with it
    return None


async def _originals(session: AsyncSession, source_id: str) -> dict[str, int]:
    """The source's documents that are not duplicates, id → simhash, loaded under the lock
    on the transaction's first check and kept up to date by the checks after it."""
    cache: dict[str, dict[str, int]] = session.info.setdefault("near_duplicate_originals", {})
    if source_id not in cache:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": source_id}
            )
        rows = await session.execute(
            select(Document.id, Document.simhash).where(
                Document.source_id == source_id,
                Document.simhash.is_not(None),
                Document.duplicate_of.is_(None),
            )
        )
        cache[source_id] = {str(i): int(h) for i, h in rows.all() if h is not None}
    return cache[source_id]

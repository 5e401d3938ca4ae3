"""Documents with their extraction, insights and per-stage history."""

from __future__ import annotations

from sqlalchemy import select

from shared.db.models import Document, Insight, StageResult
from shared.errors import NotFoundError
from shared.pagination.keyset import keyset, page_of
from shared.ports import Runtime
from shared.repo.sources import secret
from shared.schemas import DocumentDetail, DocumentOut, InsightOut, Page


async def list_(
    rt: Runtime,
    limit: int,
    cursor: str | None,
    *,
    source_id: str | None = None,
    language: str | None = None,
    run_id: str | None = None,
    q: str | None = None,
) -> Page[DocumentOut]:
    stmt = select(Document)
    if source_id:
        stmt = stmt.where(Document.source_id == source_id)
    if language:
        stmt = stmt.where(Document.language == language)
    if run_id:
        stmt = stmt.where(
            Document.id.in_(select(StageResult.document_id).where(StageResult.run_id == run_id))
        )
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            Document.title.ilike(like, escape="\\") | Document.text.ilike(like, escape="\\")
        )
    stmt = keyset(stmt, Document.updated_at, Document.id, cursor, limit, secret(rt))
    async with rt.db.reader() as session:
        rows = (await session.scalars(stmt)).all()
    items, nxt = page_of(rows, limit, secret(rt), "updated_at")
    return Page(items=[DocumentOut.model_validate(d) for d in items], next_cursor=nxt)


async def get(rt: Runtime, document_id: str) -> DocumentDetail:
    async with rt.db.reader() as session:
        doc = await session.get(Document, document_id)
        if doc is None:
            raise NotFoundError(f"document {document_id} does not exist")
        insights = (
            await session.scalars(
                select(Insight)
                .where(Insight.document_id == document_id)
                .order_by(Insight.id.desc())
            )
        ).all()
        stages = (
            await session.scalars(
                select(StageResult)
                .where(StageResult.document_id == document_id)
                .order_by(StageResult.id)
            )
        ).all()
        detail = DocumentDetail.model_validate(doc)
        detail.insights = [InsightOut.model_validate(i) for i in insights]
        detail.stages = [
            {"run_id": s.run_id, "stage": s.stage, "status": s.status, "detail": s.detail}
            for s in stages
        ]
        return detail

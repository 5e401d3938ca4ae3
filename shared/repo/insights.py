"""Intelligence's database work: the document it analyses, and the insight it stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Document, Insight, Source
from shared.db.upsert import upsert
from shared.llm.tasks import InsightResult


@dataclass(frozen=True)
class ToAnalyse:
    """A document's text as intelligence reads it, with its source's intelligence options."""

    id: str
    text: str | None
    language: str | None
    options: dict[str, Any] | None


async def to_analyse(session: AsyncSession, document_id: str) -> ToAnalyse | None:
    row = (
        await session.execute(
            select(Document.id, Document.text, Document.language, Source.intelligence)
            .join(Source, Source.id == Document.source_id)
            .where(Document.id == document_id)
        )
    ).one_or_none()
    return None if row is None else ToAnalyse(*row)


async def store(session: AsyncSession, run_id: str, doc: ToAnalyse, found: InsightResult) -> None:
    """The document's insight in this run (written again: the same row)."""
    await upsert(
        session,
        Insight,
        {
            "run_id": run_id,
            "document_id": doc.id,
            "summary": found.summary,
            "keywords": list(found.keywords),
            "sentiment": found.sentiment,
            "sentiment_label": found.sentiment_label,
            "language": doc.language,
            "entities": [dict(e) for e in found.entities],
            "label": found.label,
            "label_scores": dict(found.label_scores),
            "structured": None if found.structured is None else dict(found.structured),
            "missing_fields": list(found.missing_fields),
            "status": found.status,
            "tokens": found.tokens,
            "cost_usd": found.cost_usd,
            "provider": found.provider,
            "model": found.model[:64],
        },
        key=("run_id", "document_id"),
    )

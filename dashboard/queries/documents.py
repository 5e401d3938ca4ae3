"""Document search for the Documents page: text, source, language, sentiment and label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, or_, select

from shared.db.models import Document, Insight, Source
from shared.pagination.keyset import keyset, page_of
from shared.ports import Runtime

SENTIMENTS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class Filters:
    q: str = ""
    source_id: str = ""
    language: str = ""
    sentiment: str = ""
    label: str = ""


@dataclass(frozen=True)
class Row:
    id: str
    title: str | None
    url: str
    language: str | None
    source: str
    sentiment: str | None
    label: str | None
    duplicate_of: str | None
    updated_at: object


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search(
    rt: Runtime, f: Filters, limit: int, cursor: str | None
) -> tuple[list[Row], str | None]:
    secret = rt.settings.secret_key.get_secret_value().encode()
    stmt = select(Document)
    if f.q:
        like = _like(f.q)
        stmt = stmt.where(
            Document.title.ilike(like, escape="\\") | Document.text.ilike(like, escape="\\")
        )
    if f.source_id:
        stmt = stmt.where(Document.source_id == f.source_id)
    if f.language:
        stmt = stmt.where(Document.language == f.language)
    if f.sentiment:
        stmt = stmt.where(
            Document.id.in_(
                select(Insight.document_id).where(Insight.sentiment_label == f.sentiment)
            )
        )
    if f.label:  # the classification label, or one of the keywords
        quoted = _like('"' + f.label.lower() + '"')
        stmt = stmt.where(
            Document.id.in_(
                select(Insight.document_id).where(
                    or_(
                        func.lower(Insight.label) == f.label.lower(),
                        cast(Insight.keywords, String).ilike(quoted, escape="\\"),
                    )
                )
            )
        )
    stmt = keyset(stmt, Document.updated_at, Document.id, cursor, limit, secret)
    async with rt.db.reader() as session:
        docs = (await session.scalars(stmt)).all()
        items, nxt = page_of(docs, limit, secret, "updated_at")
        ids = [d.id for d in items]
        names = dict(
            (
                await session.execute(
                    select(Source.id, Source.name).where(
                        Source.id.in_({d.source_id for d in items})
                    )
                )
            ).all()
        )
        moods: dict[str, tuple[str | None, str | None]] = {}
        if ids:
            rows = await session.execute(
                select(Insight.document_id, Insight.sentiment_label, Insight.label)
                .where(Insight.document_id.in_(ids))
                .order_by(Insight.id)
            )
            moods = {doc_id: (mood, label) for doc_id, mood, label in rows}
    return [
        Row(
            d.id,
            d.title,
            d.url,
            d.language,
            names.get(d.source_id, d.source_id),
            moods.get(d.id, (None, None))[0],
            moods.get(d.id, (None, None))[1],
            d.duplicate_of,
            d.updated_at,
        )
        for d in items
    ], nxt


async def languages(rt: Runtime) -> list[str]:
    async with rt.db.reader() as session:
        found = await session.scalars(
            select(Document.language).where(Document.language.is_not(None)).distinct()
        )
        return sorted(str(x) for x in found.all())


async def source_names(rt: Runtime) -> list[tuple[str, str]]:
    async with rt.db.reader() as session:
        rows = await session.execute(select(Source.id, Source.name).order_by(Source.name))
        return [(str(i), str(n)) for i, n in rows]


@dataclass(frozen=True)
class InsightExtras:
    label: str | None
    entities: list[tuple[str, str]]


def _entity(item: Any) -> tuple[str, str] | None:
    match item:
        case {"text": str(text), "type": str(kind)} | [str(text), str(kind), *_]:
            return text, kind
    return None


async def insight_extras(rt: Runtime, document_id: str) -> dict[str, InsightExtras]:
    """Each run's classification label and entities for a document, by run id."""
    async with rt.db.reader() as session:
        rows = await session.execute(
            select(Insight.run_id, Insight.label, Insight.entities).where(
                Insight.document_id == document_id
            )
        )
        out = {}
        for run_id, label, entities in rows:
            found = [e for e in (_entity(x) for x in entities or []) if e is not None]
            out[str(run_id)] = InsightExtras(label, found[:30])
        return out

"""Sources: create, list, get, delete (refused while a run is active)."""

from __future__ import annotations

from sqlalchemy import select

from shared.db.models import ACTIVE_STATES, Run, Source
from shared.errors import ConflictError, NotFoundError
from shared.pagination.keyset import keyset, page_of
from shared.ports import Runtime
from shared.schemas import Page, SourceIn, SourceOut


def secret(rt: Runtime) -> bytes:
    return rt.settings.secret_key.get_secret_value().encode()


async def create(rt: Runtime, body: SourceIn) -> SourceOut:
    async with rt.db.writer() as session:
        source = Source(
            name=body.name,
            kind=body.kind,
            url=str(body.url) if body.url else None,
            urls=[str(u) for u in body.urls],
            schedule=body.schedule,
            crawl=body.crawl.model_dump() if body.crawl else None,
            intelligence=body.intelligence.stored() if body.intelligence else None,
        )
        session.add(source)
        await session.flush()
        return SourceOut.model_validate(source)


async def update(rt: Runtime, source_id: str, body: SourceIn) -> SourceOut:
    """Replace a source's definition; runs already started keep what they read."""
    async with rt.db.writer() as session:
        source = await session.get(Source, source_id)
        if source is None:
            raise NotFoundError(f"source {source_id} does not exist")
        if body.schedule != source.schedule:
            source.next_run_at = None  # the scheduler plans the new schedule from now
        source.name = body.name
        source.kind = body.kind
        source.url = str(body.url) if body.url else None
        source.urls = [str(u) for u in body.urls]
        source.schedule = body.schedule
        source.crawl = body.crawl.model_dump() if body.crawl else None
        source.intelligence = body.intelligence.stored() if body.intelligence else None
        await session.flush()
        return SourceOut.model_validate(source)


async def get(rt: Runtime, source_id: str) -> SourceOut:
    async with rt.db.reader() as session:
        source = await session.get(Source, source_id)
        if source is None:
            raise NotFoundError(f"source {source_id} does not exist")
        return SourceOut.model_validate(source)


async def list_(rt: Runtime, limit: int, cursor: str | None) -> Page[SourceOut]:
    stmt = keyset(select(Source), Source.created_at, Source.id, cursor, limit, secret(rt))
    async with rt.db.reader() as session:
        rows = (await session.scalars(stmt)).all()
    items, nxt = page_of(rows, limit, secret(rt), "created_at")
    return Page(items=[SourceOut.model_validate(s) for s in items], next_cursor=nxt)


async def delete(rt: Runtime, source_id: str) -> None:
    async with rt.db.writer() as session:
        source = await session.get(Source, source_id)
        if source is None:
            raise NotFoundError(f"source {source_id} does not exist")
        active = await session.scalar(
            select(Run.id).where(Run.source_id == source_id, Run.state.in_(ACTIVE_STATES))
        )
        if active is not None:
            raise ConflictError(
                f"source {source_id} has an active run {active}; cancel it first",
                run_id=active,
            )
        await session.delete(source)

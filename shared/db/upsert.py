"""INSERT ... ON CONFLICT DO UPDATE for SQLite and Postgres alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

# Rows per multi-row statement: SQLite allows 32,766 bound values in one.
CHUNK = 500


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: dict[str, Any],
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Insert `values`, or update the row with the same `key`: the `update` columns, or
    every non-key column when `update` is None."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values)
    columns = update if update is not None else [c for c in values if c not in key]
    updates = {col: stmt.excluded[col] for col in columns}
    await session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=updates))


async def insert_new(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
) -> set[tuple[Any, ...]]:
    """Insert `rows`, leaving alone those whose `key` is taken; returns the keys of the rows
    this call inserted. A row another transaction is inserting waits for it, then counts as
    taken: of two concurrent deliveries of one message, exactly one inserts."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table: Any = model.__table__
    inserted: set[tuple[Any, ...]] = set()
    for start in range(0, len(rows), CHUNK):
        stmt = (
            insert(model)
            .values(list(rows[start : start + CHUNK]))
            .on_conflict_do_nothing(index_elements=list(key))
            .returning(*(table.c[k] for k in key))
        )
        inserted |= {tuple(row) for row in (await session.execute(stmt)).all()}
    return inserted


async def upsert_many(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    update: Sequence[str],
) -> None:
    """`upsert` for many rows of the same columns, a few statements in all."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(rows), CHUNK):
        stmt = insert(model).values(list(rows[start : start + CHUNK]))
        updates = {col: stmt.excluded[col] for col in update}
        await session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=updates))


async def accumulate(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    assign: Sequence[str] = ("memory_mb", "architecture"),
    chunk: int = CHUNK,
) -> None:
    """Insert `rows`, or add each of their other columns to the row with the same `key`
    (the `assign` columns are overwritten instead). Keys must be unique within `rows`;
    callers sort them, so concurrent writers lock rows in one order."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table: Any = model.__table__
    for start in range(0, len(rows), chunk):
        stmt = insert(model).values(list(rows[start : start + chunk]))
        summed = [c for c in rows[0] if c not in key and c not in assign]
        updates = {c: table.c[c] + stmt.excluded[c] for c in summed}
        updates |= {c: stmt.excluded[c] for c in assign if c in rows[0]}
        await session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=updates))

"""INSERT ... ON CONFLICT DO UPDATE for SQLite and Postgres alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


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


async def accumulate(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    assign: Sequence[str] = ("memory_mb", "architecture"),
    chunk: int = 200,
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

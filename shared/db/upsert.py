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

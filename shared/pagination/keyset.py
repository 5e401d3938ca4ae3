"""Keyset pagination over (timestamp desc, id desc) with opaque signed cursors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from shared.pagination.cursors import Cursor, CursorError, decode_cursor, encode_cursor

T = TypeVar("T")


def keyset(
    stmt: Select[Any],
    ts: InstrumentedAttribute[datetime],
    ident: InstrumentedAttribute[str],
    cursor: str | None,
    limit: int,
    secret: bytes,
) -> Select[Any]:
    """Order newest first and start after `cursor`; fetches one extra row to see the end."""
    if cursor:
        pos = decode_cursor(cursor, secret)
        try:
            key = datetime.fromisoformat(pos.key)
        except ValueError as exc:
            raise CursorError("invalid cursor: bad position") from exc
        stmt = stmt.where(or_(ts < key, and_(ts == key, ident < pos.id)))
    return stmt.order_by(ts.desc(), ident.desc()).limit(limit + 1)


def page_of(rows: Sequence[T], limit: int, secret: bytes, ts: str) -> tuple[list[T], str | None]:
    """Trim the extra row and build the next cursor from the last row kept."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    last = items[-1]
    return items, encode_cursor(Cursor(getattr(last, ts).isoformat(), last.id), secret)  # type: ignore[attr-defined]

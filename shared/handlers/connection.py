"""A stage invocation's database access: one connection at a time, each use short, and never
one use inside another, so an invocation never holds two connections nor waits on itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession

from shared.ports import Database

_inside: ContextVar[bool] = ContextVar("quarry_one_connection_inside", default=False)


class NestedUseError(RuntimeError):
    """A transaction opened inside another of the same invocation (it would need a second
    connection, or wait forever on its own)."""


class OneConnection:
    """The invocation's one connection: each `writer()` block checks one out of the pool and
    returns it at the end; blocks of the batch's concurrent cores take turns. Network and LLM
    calls belong between blocks, never inside one."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._turn = asyncio.Lock()

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[AsyncSession]:
        """A short transaction on the primary (reads included: the stage before committed
        there, and a replica may not have it yet)."""
        if _inside.get():
            raise NestedUseError(
                "a stage opened a database session inside another; read, then do the I/O, "
                "then write, each on its own"
            )
        async with self._turn:
            token = _inside.set(True)
            try:
                async with self.db.writer() as session:
                    yield session
            finally:
                _inside.reset(token)

"""A persistent event loop per thread, as a warm Lambda execution environment keeps one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_local = threading.local()
_created: list[asyncio.AbstractEventLoop] = []
_created_lock = threading.Lock()


def thread_loop() -> asyncio.AbstractEventLoop:
    """This thread's own loop, created once and reused so pooled connections stay valid."""
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        _local.loop = loop
        with _created_lock:
            _created.append(loop)
    return loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on this thread's persistent loop (sync Lambda entry)."""
    return thread_loop().run_until_complete(coro)


def close_idle_loops() -> int:
    """Close the per-thread loops that are no longer running (after their pool stopped)."""
    closed = 0
    with _created_lock:
        for loop in list(_created):
            if not loop.is_running():
                if not loop.is_closed():
                    loop.close()
                    closed += 1
                _created.remove(loop)
    return closed

"""File watching by polling: snapshots of (mtime, size) compared every half second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path

POLL_S = 0.5
DEBOUNCE_S = 0.3
Stamp = tuple[int, int]


def snapshot(paths: Iterable[Path]) -> dict[Path, Stamp]:
    """(mtime in ns, size) of each path that exists."""
    out: dict[Path, Stamp] = {}
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        out[path] = (st.st_mtime_ns, st.st_size)
    return out


def changed(before: Mapping[Path, Stamp], after: Mapping[Path, Stamp]) -> set[Path]:
    """Files added, removed or modified between two snapshots."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


async def changes(
    files: Callable[[], Iterable[Path]],
    *,
    poll_s: float = POLL_S,
    debounce_s: float = DEBOUNCE_S,
) -> AsyncIterator[set[Path]]:
    """Yield each set of changed files once edits have been quiet for `debounce_s`, so an
    editor's save (often a write, a rename and a chmod) or a checkout is one change.

    `files` lists what to watch; it is called on every poll so new files are seen. A change
    made while the consumer handles the previous one is reported on the next iteration."""

    def take() -> dict[Path, Stamp]:
        return snapshot(files())

    before = await asyncio.to_thread(take)
    while True:
        await asyncio.sleep(poll_s)
        now = await asyncio.to_thread(take)
        found = changed(before, now)
        if not found:
            continue
        while True:
            await asyncio.sleep(debounce_s)
            later = await asyncio.to_thread(take)
            more = changed(now, later)
            now = later
            if not more:
                break
            found |= more
        before = now
        yield found

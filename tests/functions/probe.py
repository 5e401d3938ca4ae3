"""A stage that does what its document's URL says, for tests of the stage adapter: succeed,
skip, fail, raise on its first attempt, fail in its write on its first attempt, sleep past
its timeout, pause (counting the cores paused at once), read (noting the connections held
meanwhile), or open a session inside another. It counts its attempts per URL."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.handlers.stage import StageDeps, stage
from shared.messages import ExtractDocument
from shared.outcome import Outcome, Result, failed, skipped, succeeded

attempts: Counter[str] = Counter()
held: list[int] = []  # connections the process held inside each read
busy = {"now": 0, "peak": 0}  # cores in a "busy" pause at once, and the most at once


@stage("probe")
async def handler(msg: ExtractDocument, deps: StageDeps) -> Result:
    attempts[msg.url] += 1
    first = attempts[msg.url] == 1
    action = msg.url.rstrip("/").rsplit("/", 1)[-1]
    if action == "raise-once" and first:
        raise RuntimeError("probe: the first attempt fails")
    if action == "sleep":
        await asyncio.sleep(30)
    if action == "busy":
        busy["now"] += 1
        busy["peak"] = max(busy["peak"], busy["now"])
        await asyncio.sleep(0.3)
        busy["now"] -= 1
    if action == "skip":
        return skipped("probe: nothing to do")
    if action == "fail":
        return failed("probe: refused")
    if action == "read":
        async with deps.read() as session:
            await session.execute(text("SELECT 1"))
            held.append(deps.runtime.db.checked_out())
    if action == "nested":
        async with deps.read(), deps.read():
            pass
    if action == "bad-write-once" and first:

        async def write(session: AsyncSession) -> Outcome:
            await session.execute(text("SELECT 1"))
            raise RuntimeError("probe: the first write fails")

        return write
    return succeeded()

"""Word gate (a toy stage): hands an extracted document on to analysis only when its text is
long enough to be worth it; shorter ones are skipped, with their word count."""

from __future__ import annotations

from shared.handlers.stage import StageDeps, stage
from shared.messages import AnalyseDocument
from shared.outcome import Result, skipped, succeeded
from shared.repo import insights

MIN_WORDS = 290


@stage("wordgate")
async def handler(msg: AnalyseDocument, deps: StageDeps) -> Result:
    async with deps.read() as session:
        doc = await insights.to_analyse(session, msg.document_id)
    words = len((doc.text or "").split()) if doc else 0
    if words < MIN_WORDS:
        return skipped(f"too short to analyse: {words} words (at least {MIN_WORDS})")
    return succeeded(msg)

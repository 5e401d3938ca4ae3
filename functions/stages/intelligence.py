"""Intelligence stage: extracted document → summary, keywords, sentiment, language."""

from __future__ import annotations

from shared import results
from shared.db.models import Document, Insight
from shared.db.upsert import upsert
from shared.messages import AnalyseDocument
from shared.pipeline.insights import analyse
from shared.runtime.stage import StageDeps, stage

STAGE = "intelligence"
PROVIDER, MODEL = "local", "quarry-offline-1"


@stage(STAGE)
async def handler(msg: AnalyseDocument, deps: StageDeps) -> None:
    session = deps.session
    if await results.outcome(session, msg.run_id, msg.document_id, STAGE):
        return
    doc = await session.get(Document, msg.document_id)
    if doc is None or not doc.text:
        await results.record(session, msg.run_id, msg.document_id, STAGE, "failed", "no text")
        return
    analysis = analyse(doc.text, doc.language)
    await upsert(
        session,
        Insight,
        {
            "run_id": msg.run_id,
            "document_id": doc.id,
            "summary": analysis.summary,
            "keywords": list(analysis.keywords),
            "sentiment": analysis.sentiment,
            "sentiment_label": analysis.sentiment_label,
            "language": analysis.language,
            "provider": PROVIDER,
            "model": MODEL,
        },
        key=("run_id", "document_id"),
    )
    await results.record(session, msg.run_id, doc.id, STAGE, "succeeded")

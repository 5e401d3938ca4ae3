"""Intelligence stage: extracted document → insights through the configured LLM chain."""

from __future__ import annotations

from shared import results
from shared.db.models import Document, Insight, Source
from shared.db.upsert import upsert
from shared.errors import UnavailableError
from shared.handlers.stage import StageDeps, stage
from shared.llm.service import analyse_document, to_options
from shared.messages import AnalyseDocument

STAGE = "intelligence"


@stage(STAGE)
async def handler(msg: AnalyseDocument, deps: StageDeps) -> None:
    session = deps.session
    if await results.outcome(session, msg.run_id, msg.document_id, STAGE):
        return
    doc = await session.get(Document, msg.document_id)
    if doc is None or not doc.text:
        await results.record(session, msg.run_id, msg.document_id, STAGE, "failed", "no text")
        return
    source = await session.get(Source, doc.source_id)
    found = await analyse_document(
        deps.settings,
        deps.runtime.db,
        deps.cache,
        run_id=msg.run_id,
        document_id=doc.id,
        text=doc.text,
        language=doc.language,
        options=to_options(source.intelligence if source else None),
    )
    if found.status == "failed":  # every provider failed: the delivery policy retries
        raise UnavailableError(f"intelligence: {found.detail}")
    if found.sentiment_label is not None:  # the insight itself is valid; store it
        await upsert(
            session,
            Insight,
            {
                "run_id": msg.run_id,
                "document_id": doc.id,
                "summary": found.summary,
                "keywords": list(found.keywords),
                "sentiment": found.sentiment,
                "sentiment_label": found.sentiment_label,
                "language": doc.language,
                "entities": [dict(e) for e in found.entities],
                "label": found.label,
                "label_scores": dict(found.label_scores),
                "structured": None if found.structured is None else dict(found.structured),
                "missing_fields": list(found.missing_fields),
                "status": found.status,
                "tokens": found.tokens,
                "cost_usd": found.cost_usd,
                "provider": found.provider,
                "model": found.model[:64],
            },
            key=("run_id", "document_id"),
        )
    if found.status == "ok":
        await results.record(session, msg.run_id, doc.id, STAGE, "succeeded")
    else:  # budget_exceeded: stopped before the call; invalid_output: nothing invalid kept
        status = "skipped" if found.status == "budget_exceeded" else "failed"
        detail = found.detail or ""
        if not detail.startswith(found.status):
            detail = f"{found.status}: {detail}"
        await results.record(session, msg.run_id, doc.id, STAGE, status, detail[:2000])

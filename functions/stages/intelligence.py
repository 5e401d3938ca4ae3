"""Intelligence stage: extracted document → insights through the configured LLM chain."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import UnavailableError
from shared.handlers.stage import StageDeps, stage
from shared.llm.service import analyse_document, to_options
from shared.messages import AnalyseDocument
from shared.outcome import Outcome, Result, failed, skipped, succeeded
from shared.repo import insights


@stage("intelligence")
async def handler(msg: AnalyseDocument, deps: StageDeps) -> Result:
    async with deps.read() as session:
        doc = await insights.to_analyse(session, msg.document_id)
    if doc is None or not doc.text:
        return failed("no text")
    found = await analyse_document(  # the LLM calls: no connection held meanwhile
        deps.settings,
        deps.db,
        deps.cache,
        run_id=msg.run_id,
        document_id=doc.id,
        text=doc.text,
        language=doc.language,
        options=to_options(doc.options),
    )
    if found.status == "failed":  # every provider failed: the queue delivers it again
        raise UnavailableError(f"intelligence: {found.detail}")
    if found.status == "ok":
        outcome = succeeded()
    else:  # budget_exceeded: stopped before the call; invalid_output: nothing invalid kept
        detail = found.detail or ""
        if not detail.startswith(found.status):
            detail = f"{found.status}: {detail}"
        status = skipped if found.status == "budget_exceeded" else failed
        outcome = status(detail[:2000])

    async def write(session: AsyncSession) -> Outcome:
        if found.sentiment_label is not None:  # the insight itself is valid; store it
            await insights.store(session, msg.run_id, doc, found)
        return outcome

    return write

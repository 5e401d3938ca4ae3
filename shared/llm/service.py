"""The intelligence stage's one entry: a document's text in, an InsightResult out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.config import Settings
from shared.llm.budget import Budget
from shared.llm.calls import Caller
from shared.llm.registry import chain_for, is_offline
from shared.llm.tasks import InsightResult, Options, analyse
from shared.ports import Cache, Transactions


def to_options(raw: Mapping[str, Any] | None) -> Options:
    """A source's stored `intelligence` column as Options (absent or malformed: none)."""
    if not isinstance(raw, Mapping):
        return Options()
    labels = raw.get("labels")
    schema = raw.get("schema")
    return Options(
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {},
        schema=schema if isinstance(schema, Mapping) else None,
    )


async def analyse_document(
    settings: Settings,
    db: Transactions,
    cache: Cache,
    *,
    run_id: str,
    document_id: str,
    text: str,
    language: str | None,
    options: Options,
) -> InsightResult:
    """Run every task for the document through the configured chain, within the run's
    budget; the offline default neither chunks nor accounts (it is free and unbounded)."""
    offline = is_offline(settings)
    caller = Caller(
        chain_for(settings),
        cache,
        db,
        run_id,
        document_id,
        Budget(settings.llm_run_budget_tokens, settings.llm_run_budget_usd),
        record=not offline,
    )
    return await analyse(
        text,
        options,
        caller,
        language=language,
        context_tokens=None if offline else settings.llm_context_tokens,
    )

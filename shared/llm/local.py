"""The offline default provider: answers each task from the pure offline cores, no network.

It reads the request's raw document (never the prompt), so nothing a page says can steer it.
"""

from __future__ import annotations

import json
from typing import Any

from shared.llm.base import Completion, CompletionRequest, ProviderError
from shared.llm.prompts import MAX_ENTITIES, MAX_KEYWORDS, MAX_SUMMARY_CHARS
from shared.pipeline.offline import analyse_offline

MODEL = "quarry-offline-1"


class LocalProvider:
    """Deterministic, free and instant; the last link of every fallback chain."""

    name = "local"
    model = MODEL

    async def complete(self, req: CompletionRequest) -> Completion:
        return Completion(
            text=json.dumps(answer(req), ensure_ascii=False),
            finish_reason="stop",
            refusal=None,
            input_tokens=0,
            output_tokens=0,
            model=MODEL,
            provider=self.name,
        )


def answer(req: CompletionRequest) -> dict[str, Any]:
    """The task's JSON answer for the request's document."""
    if req.task == "insight":
        a = analyse_offline(req.document, language_hint=req.language, labels=req.labels or None)
        return {
            "summary": a.summary[:MAX_SUMMARY_CHARS],
            "keywords": [k[:100] for k in a.keywords[:MAX_KEYWORDS]],
            "sentiment": max(-1.0, min(1.0, a.sentiment)),
            "sentiment_label": a.sentiment_label,
            "entities": [{"text": e.text[:200], "type": e.type} for e in a.entities][:MAX_ENTITIES],
            "label": a.label,
            "label_scores": {
                name: max(0.0, min(1.0, float(a.label_scores.get(name, 0.0))))
                for name in req.labels
            },
        }
    if req.task == "extract":
        a = analyse_offline(req.document, language_hint=req.language, schema=req.schema)
        return dict(a.structured or {})
    if req.task == "merge":
        a = analyse_offline(req.document, language_hint=req.language)
        return {"summary": a.summary[:MAX_SUMMARY_CHARS]}
    raise ProviderError(f"local: no offline answer for task {req.task!r}")

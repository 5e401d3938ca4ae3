"""All tasks for one document: chunk, ask, validate (with repairs), merge → InsightResult.

Every answer is validated against its JSON Schema; an invalid one is sent back with the
validation error up to REPAIRS times, then the task counts as `invalid_output` and nothing
invalid is kept. A budget refusal stops the document with `budget_exceeded`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from shared.llm import prompts
from shared.llm.base import (
    BudgetExceeded,
    CompletionRequest,
    InvalidOutput,
    ProviderError,
    parse_json,
)
from shared.llm.calls import Caller
from shared.llm.merge import merge_insights, merge_structured

REPAIRS = 2


class SchemaInvalid(InvalidOutput):
    """The JSON Schema itself is broken (stored before the API checked it): no call can pass."""


@dataclass(frozen=True)
class Options:
    """A source's intelligence options: labels (name → description) and a JSON Schema."""

    labels: Mapping[str, str] = field(default_factory=dict)
    schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class InsightResult:
    """What the intelligence stage stores for one document; `status` is ok,
    invalid_output (structured extraction failed; the rest is kept), budget_exceeded or
    failed, with `detail` saying why."""

    status: str
    detail: str | None = None
    summary: str = ""
    keywords: tuple[str, ...] = ()
    sentiment: float | None = None
    sentiment_label: str | None = None
    entities: tuple[Mapping[str, str], ...] = ()
    label: str | None = None
    label_scores: Mapping[str, float] = field(default_factory=dict)
    structured: Mapping[str, Any] | None = None
    missing_fields: tuple[str, ...] = ()
    tokens: int = 0
    cost_usd: float = 0.0
    provider: str = "local"
    model: str = "quarry-offline-1"


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    import jsonschema  # on first use: it takes ~0.2 s to import, too much for a cold start

    schema = json.loads(schema_json)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaInvalid(f"the source's JSON Schema is invalid: {exc.message}") from exc
    return jsonschema.Draft202012Validator(schema)


def schema_error(value: Any, schema: Mapping[str, Any]) -> str | None:
    """Why `value` does not validate against `schema` (the most relevant error), or None;
    SchemaInvalid when the schema itself is broken."""
    from jsonschema.exceptions import best_match

    validator = _validator(json.dumps(schema, sort_keys=True))
    error = best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {where}: {error.message[:300]}"


class Analyst:
    """Runs the tasks for documents through one Caller."""

    def __init__(self, caller: Caller, context_tokens: int | None, language: str | None) -> None:
        self.caller = caller
        self.context_tokens = context_tokens
        self.language = language

    async def ask(
        self,
        task: str,
        user: str,
        schema: Mapping[str, Any],
        document: str,
        labels: Mapping[str, str],
    ) -> Any:
        """The task's validated JSON answer, after up to REPAIRS repair attempts."""
        req = CompletionRequest(
            system=prompts.system_prompt(schema),
            user=user,
            schema=schema,
            max_tokens=prompts.MAX_TOKENS[task],
            task=task,
            prompt_version=prompts.PROMPT_VERSION[task],
            document=document,
            labels=labels,
            language=self.language,
        )
        attempt = req
        error = ""
        for repair in range(1, 2 + REPAIRS):
            answer = await self.caller.complete(attempt)
            try:
                value = parse_json(answer.text)
            except ValueError as exc:
                error = f"not JSON: {exc}"
            else:
                found = schema_error(value, schema)
                if found is None:
                    return value
                error = found
            attempt = dataclasses.replace(
                req,
                user=prompts.repair_user(req.user, answer.text, error),
                prompt_version=f"{req.prompt_version}+repair{repair}",  # each its own key
            )
        raise InvalidOutput(
            f"{task}: the answer was still invalid after {REPAIRS} repairs: {error}"
        )

    def chunks(self, text: str, overhead: str, task: str) -> list[str]:
        if self.context_tokens is None:
            return [text]
        size = prompts.chunk_chars(self.context_tokens, overhead, prompts.MAX_TOKENS[task])
        return prompts.chunk(text, size)

    async def insight(self, text: str, labels: Mapping[str, str]) -> dict[str, Any]:
        schema = prompts.insight_schema(labels)
        overhead = prompts.system_prompt(schema) + prompts.insight_user("", labels)
        parts = self.chunks(text, overhead, "insight")
        answers = [
            await self.ask("insight", prompts.insight_user(c, labels), schema, c, labels)
            for c in parts
        ]
        merged = merge_insights(answers, [len(c) for c in parts])
        if len(parts) > 1:
            summaries = [a["summary"] for a in answers]
            joined = "\n\n".join(summaries)
            reduced = await self.ask(
                "merge", prompts.merge_user(summaries), prompts.MERGE_SCHEMA, joined, {}
            )
            merged["summary"] = reduced["summary"]
        return merged

    async def extract(self, text: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        schema_error({}, schema)  # a broken schema fails here, before any call
        overhead = prompts.system_prompt(schema) + prompts.extract_user("")
        parts = self.chunks(text, overhead, "extract")
        if len(parts) == 1:
            value = await self.ask("extract", prompts.extract_user(text), schema, text, {})
            return dict(value)
        # A field may be stated in one part only: parts answer without `required`, and the
        # merged answer must satisfy the whole schema.
        relaxed = {**schema, "required": []}
        answers = [
            await self.ask("extract", prompts.extract_user(c), relaxed, c, {}) for c in parts
        ]
        merged = merge_structured(answers)
        error = schema_error(merged, schema)
        if error is not None:
            raise InvalidOutput(f"extract: the merged answer is invalid: {error}")
        return merged


def missing(structured: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The schema's top-level fields the answer left out or null."""
    props = schema.get("properties")
    names = props if isinstance(props, Mapping) else {}
    return tuple(str(n) for n in names if structured.get(n) in (None, ""))


async def analyse(
    text: str,
    options: Options,
    caller: Caller,
    *,
    language: str | None = None,
    context_tokens: int | None = None,
) -> InsightResult:
    """Every task for one document; never raises for a provider's failure, it is the status."""
    analyst = Analyst(caller, context_tokens, language)
    text = prompts.drop_instructions(text)
    try:
        found = await analyst.insight(text, options.labels)
    except BudgetExceeded as exc:
        return _failed(caller, "budget_exceeded", exc.detail)
    except InvalidOutput as exc:
        return _failed(caller, "invalid_output", exc.detail)
    except ProviderError as exc:
        return _failed(caller, "failed", exc.detail)
    status, detail = "ok", None
    structured: dict[str, Any] | None = None
    fields: tuple[str, ...] = ()
    if options.schema is not None:
        try:
            structured = await analyst.extract(text, options.schema)
            fields = missing(structured, options.schema)
        except BudgetExceeded as exc:
            status, detail = "budget_exceeded", exc.detail
        except InvalidOutput as exc:
            status, detail = "invalid_output", exc.detail
        except ProviderError as exc:
            status, detail = "failed", f"structured extraction: {exc.detail}"
    provider, model = caller.usage.providers[-1] if caller.usage.providers else ("local", "")
    return InsightResult(
        status=status,
        detail=detail,
        summary=found["summary"],
        keywords=tuple(found["keywords"]),
        sentiment=float(found["sentiment"]),
        sentiment_label=found["sentiment_label"],
        entities=tuple(found["entities"]),
        label=found["label"],
        label_scores=dict(found["label_scores"]),
        structured=structured,
        missing_fields=fields,
        tokens=caller.usage.tokens,
        cost_usd=caller.usage.cost_usd,
        provider=provider,
        model=model,
    )


def _failed(caller: Caller, status: str, detail: str) -> InsightResult:
    provider, model = caller.usage.providers[-1] if caller.usage.providers else ("-", "-")
    return InsightResult(
        status=status,
        detail=detail,
        tokens=caller.usage.tokens,
        cost_usd=caller.usage.cost_usd,
        provider=provider,
        model=model,
    )

"""The provider port: one request and answer shape for every LLM, and the errors they raise.

QuarryError
└── ProviderError        502  a provider failed (4xx, bad answer); the chain falls back
    ├── Unavailable      502  5xx or connection failure: retried with backoff, then falls back
    │   └── RateLimited  429  the provider said slow down; `retry_after` seconds when it said
    ├── TimedOut         502  no answer within llm_timeout_s: falls back at once
    ├── Truncated        502  the answer stopped at the token limit (finish_reason=length)
    ├── Refused          502  the model refused (OpenAI `message.refusal`)
    └── InvalidOutput    502  the answer did not validate against the task's schema
BudgetExceeded           402  the run's token or money budget would be passed by this call
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from shared.errors import QuarryError


@dataclass(frozen=True)
class CompletionRequest:
    """One call: a system prompt, a user prompt carrying the delimited document, and the JSON
    Schema the answer must satisfy. `document`, `labels` and `language` carry the raw inputs
    so the offline `local` provider can answer without reading the prompt."""

    system: str
    user: str
    schema: Mapping[str, Any] | None
    max_tokens: int
    task: str
    prompt_version: str
    document: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    language: str | None = None


@dataclass(frozen=True)
class Completion:
    """A provider's answer with what it cost in tokens."""

    text: str
    finish_reason: str | None
    refusal: str | None
    input_tokens: int
    output_tokens: int
    model: str
    provider: str
    cached: bool = False


class Provider(Protocol):
    """An LLM behind one call; raises ProviderError (or a subclass) on every failure."""

    name: str
    model: str

    async def complete(self, req: CompletionRequest) -> Completion: ...


class ProviderError(QuarryError):
    """A call failed; `retryable` errors are tried again on the same provider first."""

    status = 502
    title = "LLM provider failed"
    slug = "llm-provider"
    retryable: ClassVar[bool] = False


class Unavailable(ProviderError):
    """A 5xx answer or a connection that failed: worth another try after a pause."""

    title = "LLM provider unavailable"
    slug = "llm-unavailable"
    retryable = True

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TimedOut(ProviderError):
    """No whole answer within llm_timeout_s: the chain moves on to the next provider."""

    title = "LLM provider timed out"
    slug = "llm-timeout"


class RateLimited(Unavailable):
    status = 429
    title = "LLM provider rate limit"
    slug = "llm-rate-limited"


class Truncated(ProviderError):
    title = "LLM answer truncated"
    slug = "llm-truncated"


class Refused(ProviderError):
    title = "LLM refused"
    slug = "llm-refused"


class InvalidOutput(ProviderError):
    title = "LLM answer invalid"
    slug = "llm-invalid-output"


class BudgetExceeded(QuarryError):
    status = 402
    title = "Run budget exceeded"
    slug = "llm-budget-exceeded"


def check_completion(c: Completion) -> Completion:
    """Refuse answers that are not whole: a refusal or one cut at the token limit."""
    if c.refusal:
        raise Refused(f"{c.provider}/{c.model} refused: {c.refusal[:200]}")
    if c.finish_reason == "length":
        raise Truncated(f"{c.provider}/{c.model} stopped at the token limit (finish_reason=length)")
    return c


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds; an HTTP date is not honoured)."""
    if not headers:
        return None
    raw = headers.get("retry-after") or headers.get("Retry-After")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def parse_json(text: str) -> Any:
    """The JSON in an answer, tolerating a code fence around it (some models add one)."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    return json.loads(body)

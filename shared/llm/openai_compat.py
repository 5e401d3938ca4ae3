"""OpenAI, Groq and Hugging Face: chat completions with a JSON answer, through their clients.

Imported only when one of them is configured: the client libraries take up to a second to
import. Client retries are off (max_retries=0); the chain retries, the same for every provider.
"""

from __future__ import annotations

from typing import Any

import groq
import openai

from shared.llm.base import (
    Completion,
    CompletionRequest,
    ProviderError,
    RateLimited,
    TimedOut,
    Unavailable,
    retry_after_s,
)

OPENAI_URL = "https://api.openai.com/v1"
GROQ_URL = "https://api.groq.com"  # the client adds /openai/v1
HF_URL = "https://router.huggingface.co/v1"
DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "groq": "llama-3.1-8b-instant",
    "huggingface": "meta-llama/Llama-3.1-8B-Instruct",
}


def _messages(req: CompletionRequest) -> list[dict[str, str]]:
    return [{"role": "system", "content": req.system}, {"role": "user", "content": req.user}]


def _response_format(req: CompletionRequest, *, schema_mode: bool) -> dict[str, Any]:
    if req.schema is None or not schema_mode:
        return {"type": "json_object"}  # the schema is in the system prompt too
    return {
        "type": "json_schema",
        "json_schema": {"name": req.task, "schema": dict(req.schema), "strict": False},
    }


def _error(name: str, exc: Exception) -> ProviderError:
    """The client's exception as one of ours; both clients share the Stainless shapes."""
    if isinstance(exc, openai.APITimeoutError | groq.APITimeoutError):
        return TimedOut(f"{name}: no answer in time")
    if isinstance(exc, openai.APIConnectionError | groq.APIConnectionError):
        return Unavailable(f"{name}: connection failed: {exc}")
    if isinstance(exc, openai.APIStatusError | groq.APIStatusError):
        status = exc.status_code
        wait = retry_after_s(exc.response.headers)
        detail = f"{name}: HTTP {status}: {str(exc.message)[:300]}"
        if status == 429:
            return RateLimited(detail, retry_after=wait)
        if status >= 500:
            return Unavailable(detail, retry_after=wait)
        return ProviderError(detail)
    return ProviderError(f"{name}: {type(exc).__name__}: {exc}")


def _completion(name: str, model: str, resp: Any) -> Completion:
    if not resp.choices:
        raise ProviderError(f"{name}: the answer had no choices")
    choice = resp.choices[0]
    message = choice.message
    usage = resp.usage
    return Completion(
        text=message.content or "",
        finish_reason=choice.finish_reason,
        refusal=getattr(message, "refusal", None),
        input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        model=str(resp.model or model),
        provider=name,
    )


class OpenAIProvider:
    """OpenAI's chat completions API, or any server speaking it (Hugging Face's router)."""

    def __init__(
        self,
        *,
        name: str = "openai",
        model: str | None = None,
        base_url: str | None = None,
        api_key: str = "",
        timeout_s: float = 60.0,
    ) -> None:
        self.name = name
        self.model = model or DEFAULT_MODELS.get(name, DEFAULT_MODELS["openai"])
        default = HF_URL if name == "huggingface" else OPENAI_URL
        self.client = openai.AsyncOpenAI(
            api_key=api_key or "unset",
            base_url=base_url or default,
            max_retries=0,
            timeout=timeout_s,
        )

    async def complete(self, req: CompletionRequest) -> Completion:
        # OpenAI's newer models take only max_completion_tokens; compatible servers max_tokens.
        limit = "max_completion_tokens" if self.name == "openai" else "max_tokens"
        params: dict[str, Any] = {
            "model": self.model,
            "messages": _messages(req),
            "response_format": _response_format(req, schema_mode=True),
            "temperature": 0,
            limit: req.max_tokens,
        }
        try:
            resp = await self.client.chat.completions.create(**params)
        except openai.OpenAIError as exc:
            raise _error(self.name, exc) from exc
        return _completion(self.name, self.model, resp)

    async def aclose(self) -> None:
        await self.client.close()


class GroqProvider:
    """Groq through its own client (OpenAI-compatible at /openai/v1/chat/completions)."""

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str = "",
        timeout_s: float = 60.0,
    ) -> None:
        self.name = "groq"
        self.model = model or DEFAULT_MODELS["groq"]
        self.client = groq.AsyncGroq(
            api_key=api_key or "unset",
            base_url=base_url or GROQ_URL,
            max_retries=0,
            timeout=timeout_s,
        )

    async def complete(self, req: CompletionRequest) -> Completion:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": _messages(req),
            "response_format": _response_format(req, schema_mode=False),
            "temperature": 0,
            "max_tokens": req.max_tokens,
        }
        try:
            resp = await self.client.chat.completions.create(**params)
        except groq.GroqError as exc:
            raise _error(self.name, exc) from exc
        return _completion(self.name, self.model, resp)

    async def aclose(self) -> None:
        await self.client.close()

"""Ollama through its official client: /api/chat (default) or /api/generate, JSON by schema.

Imported only when Ollama is configured. The client hides response headers, so an event hook
notes Retry-After for the call in flight.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Literal

import httpx
import ollama

from shared.llm.base import (
    Completion,
    CompletionRequest,
    ProviderError,
    RateLimited,
    Unavailable,
    retry_after_s,
)

DEFAULT_URL = "http://127.0.0.1:11434"
DEFAULT_MODEL = "llama3.2"

_retry_after: ContextVar[float | None] = ContextVar("ollama_retry_after", default=None)


async def _note_retry_after(response: httpx.Response) -> None:
    _retry_after.set(retry_after_s(response.headers))


class OllamaProvider:
    """A model served by Ollama; `api` picks the chat or the generate endpoint."""

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        api: Literal["chat", "generate"] = "chat",
    ) -> None:
        self.name = "ollama"
        self.model = model or DEFAULT_MODEL
        self.api = api
        self.client = ollama.AsyncClient(
            host=base_url or DEFAULT_URL,
            timeout=timeout_s,
            event_hooks={"response": [_note_retry_after]},
        )

    async def complete(self, req: CompletionRequest) -> Completion:
        options = {"temperature": 0, "num_predict": req.max_tokens}
        fmt: dict[str, Any] | Literal["json"] = dict(req.schema) if req.schema else "json"
        _retry_after.set(None)
        resp: ollama.ChatResponse | ollama.GenerateResponse
        try:
            if self.api == "chat":
                messages = [
                    {"role": "system", "content": req.system},
                    {"role": "user", "content": req.user},
                ]
                chat = await self.client.chat(
                    self.model, messages, format=fmt, options=options, stream=False
                )
                text, resp = chat.message.content or "", chat
            else:
                gen = await self.client.generate(
                    self.model, req.user, system=req.system, format=fmt, options=options
                )
                text, resp = gen.response or "", gen
        except ollama.ResponseError as exc:
            detail = f"ollama: HTTP {exc.status_code}: {str(exc.error)[:300]}"
            if exc.status_code == 429:
                raise RateLimited(detail, retry_after=_retry_after.get()) from exc
            if exc.status_code >= 500:
                raise Unavailable(detail, retry_after=_retry_after.get()) from exc
            raise ProviderError(detail) from exc
        except (ConnectionError, httpx.TransportError) as exc:
            raise Unavailable(f"ollama: connection failed: {exc}") from exc
        return Completion(
            text=text,
            finish_reason=resp.done_reason,
            refusal=None,
            input_tokens=int(resp.prompt_eval_count or 0),
            output_tokens=int(resp.eval_count or 0),
            model=resp.model or self.model,
            provider=self.name,
        )

    async def aclose(self) -> None:
        await self.client._client.aclose()

"""The fallback chain: each provider in turn, with retries, backoff and a concurrency limit.

A provider's 429 and 5xx answers are retried after the Retry-After it sent (or exponential
backoff), up to `max_retries`; a timeout, a truncated or refused answer, or any other error
moves straight on to the next provider. Every call is counted in the metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from shared import metrics
from shared.llm.base import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderError,
    RateLimited,
    Refused,
    TimedOut,
    Truncated,
    Unavailable,
    check_completion,
)
from shared.llm.prices import price
from shared.logs import function_var, get_logger

log = get_logger("quarry.llm")

# A provider asking for a longer pause than this is skipped for the next one instead.
MAX_RETRY_AFTER_S = 30.0

Sleep = Callable[[float], Awaitable[None]]


def outcome(exc: ProviderError) -> str:
    """The metric label of a failed call."""
    for kind, name in (
        (RateLimited, "rate_limited"),
        (Unavailable, "unavailable"),
        (TimedOut, "timeout"),
        (Truncated, "truncated"),
        (Refused, "refused"),
    ):
        if isinstance(exc, kind):
            return name
    return "error"


class Chain:
    """Providers in fallback order behind one `complete()`."""

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        concurrency: int = 4,
        backoff_s: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not providers:
            raise ValueError("a chain needs at least one provider")
        self.providers = list(providers)
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.slots = {p.name: asyncio.Semaphore(concurrency) for p in self.providers}

    async def complete(self, req: CompletionRequest) -> Completion:
        """The first whole answer along the chain; ProviderError naming every failure when
        none answers."""
        failures = []
        for provider in self.providers:
            try:
                return await self._retrying(provider, req)
            except ProviderError as exc:
                failures.append(exc.detail)
                log.warning("llm provider failed, falling back: %s", exc.detail)
        raise ProviderError("every LLM provider failed: " + "; ".join(failures))

    async def _retrying(self, provider: Provider, req: CompletionRequest) -> Completion:
        attempt = 0
        while True:
            try:
                return await self._once(provider, req)
            except Unavailable as exc:
                wait = exc.retry_after
                if wait is None:
                    wait = self.backoff_s * 2**attempt
                if attempt >= self.max_retries or wait > MAX_RETRY_AFTER_S:
                    raise
                attempt += 1
                await self.sleep(wait)

    async def _once(self, provider: Provider, req: CompletionRequest) -> Completion:
        async with self.slots[provider.name]:
            try:
                async with asyncio.timeout(self.timeout_s):
                    answer = check_completion(await provider.complete(req))
            except TimeoutError as exc:
                error = TimedOut(f"{provider.name}: no answer within {self.timeout_s:g} s")
                metrics.LLM_REQUESTS.labels(provider.name, provider.model, "timeout").inc()
                raise error from exc
            except ProviderError as exc:
                metrics.LLM_REQUESTS.labels(provider.name, provider.model, outcome(exc)).inc()
                raise
        account(answer)
        return answer

    async def aclose(self) -> None:
        """Close the providers' HTTP clients."""
        for provider in self.providers:
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()


def account(c: Completion) -> float:
    """Count a whole answer's tokens and cost in the metrics; returns its cost in USD."""
    cost = price(c.provider, c.model).cost(c.input_tokens, c.output_tokens)
    metrics.LLM_REQUESTS.labels(c.provider, c.model, "ok").inc()
    metrics.LLM_TOKENS.labels(c.provider, c.model, "input").inc(c.input_tokens)
    metrics.LLM_TOKENS.labels(c.provider, c.model, "output").inc(c.output_tokens)
    metrics.LLM_COST.labels(c.provider, c.model).inc(cost)
    metrics.COST.labels(function_var.get() or "intelligence", "llm").inc(cost)
    return cost

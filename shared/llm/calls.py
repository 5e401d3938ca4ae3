"""One accounted LLM call: completion cache, budget reservation, fallback chain, records.

The cache key is (provider, model, task, prompt version, hash of the prompt and schema), so
running a run again answers from the cache without calling any provider. A call not in the
cache reserves its estimated tokens and cost against the run's budget first, and settles the
difference with what the provider reports afterwards.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from shared import metrics
from shared.db.models import LlmCall
from shared.llm.base import Completion, CompletionRequest, ProviderError
from shared.llm.budget import Budget, reserve, settle
from shared.llm.chain import Chain
from shared.llm.prices import price
from shared.llm.prompts import estimate_tokens
from shared.logs import get_logger
from shared.ports import Cache, Transactions

CACHE_TTL_S = 30 * 24 * 3600.0
log = get_logger("quarry.llm")
_UNPRICED: set[tuple[str, str]] = set()  # warned about once per process


def content_hash(req: CompletionRequest) -> str:
    """A hash of everything the provider is shown."""
    blob = json.dumps([req.system, req.user, req.schema, req.max_tokens], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def cache_key(provider: str, model: str, req: CompletionRequest) -> str:
    return ":".join(("llm", provider, model, req.task, req.prompt_version, content_hash(req)))


@dataclass
class Usage:
    """What one document's calls spent, for its insight row."""

    tokens: int = 0
    cost_usd: float = 0.0
    providers: list[tuple[str, str]] = field(default_factory=list)


class Caller:
    """LLM calls on behalf of one document of one run."""

    def __init__(
        self,
        chain: Chain,
        cache: Cache,
        db: Transactions | None,
        run_id: str,
        document_id: str | None,
        budget: Budget,
        *,
        record: bool = True,
    ) -> None:
        self.chain, self.cache, self.db = chain, cache, db
        self.run_id, self.document_id, self.budget = run_id, document_id, budget
        self.record = record and db is not None
        self.usage = Usage()

    async def complete(self, req: CompletionRequest) -> Completion:
        """The answer from the cache, or from the chain within the run's budget."""
        if not self.record:  # the offline default: free, instant, nothing to account
            answer = await self.chain.complete(req)
            self.usage.providers.append((answer.provider, answer.model))
            return answer
        cached = await self._cached(req)
        if cached is not None:
            metrics.LLM_CACHE.labels("hit").inc()
            await self._settle(req.task, 0, 0.0, cached, "ok")
            return cached
        metrics.LLM_CACHE.labels("miss").inc()
        est_tokens, est_usd = self._estimate(req)
        assert self.db is not None
        await reserve(self.db, self.run_id, est_tokens, est_usd, self.budget)
        try:
            answer = await self.chain.complete(req)
        except ProviderError as exc:
            await self._settle(req.task, -est_tokens, -est_usd, None, "failed")
            raise exc
        rate = price(answer.provider, answer.model)
        if not rate.known and (answer.provider, answer.model) not in _UNPRICED:
            _UNPRICED.add((answer.provider, answer.model))
            log.warning(
                "no price for %s/%s in shared/llm/prices.toml: its calls count as costing 0",
                answer.provider,
                answer.model,
            )
        cost = rate.cost(answer.input_tokens, answer.output_tokens)
        tokens = answer.input_tokens + answer.output_tokens
        self.usage.tokens += tokens
        self.usage.cost_usd += cost
        await self._settle(req.task, tokens - est_tokens, cost - est_usd, answer, "ok", cost=cost)
        await self.cache.set(
            cache_key(answer.provider, self._model_of(answer.provider), req),
            json.dumps(asdict(answer)).encode(),
            CACHE_TTL_S,
        )
        return answer

    def _model_of(self, provider: str) -> str:
        return next(p.model for p in self.chain.providers if p.name == provider)

    async def _cached(self, req: CompletionRequest) -> Completion | None:
        for provider in self.chain.providers:
            raw = await self.cache.get(cache_key(provider.name, provider.model, req))
            if raw is not None:
                try:
                    found = Completion(**json.loads(raw))
                except (TypeError, ValueError):
                    continue  # an entry from another version: ask again
                return Completion(**{**asdict(found), "cached": True})
        return None

    def _estimate(self, req: CompletionRequest) -> tuple[int, float]:
        """Tokens and cost to reserve: the prompt estimate plus the whole answer allowance,
        at the dearest price along the chain."""
        prompt = estimate_tokens(req.system, req.user)
        usd = max(price(p.name, p.model).cost(prompt, req.max_tokens) for p in self.chain.providers)
        return prompt + req.max_tokens, usd

    async def _settle(
        self,
        task: str,
        tokens: int,
        usd: float,
        answer: Completion | None,
        outcome: str,
        *,
        cost: float = 0.0,
    ) -> None:
        assert self.db is not None
        if answer is not None:
            self.usage.providers.append((answer.provider, answer.model))
        call = LlmCall(
            run_id=self.run_id,
            document_id=self.document_id,
            provider=answer.provider[:32] if answer else "-",
            model=answer.model[:200] if answer else "-",  # as long as a server says
            task=task,
            input_tokens=0 if answer is None or answer.cached else answer.input_tokens,
            output_tokens=0 if answer is None or answer.cached else answer.output_tokens,
            cost_usd=cost,
            cached=bool(answer and answer.cached),
            outcome=outcome,
        )
        await settle(self.db, self.run_id, tokens, usd, [call])

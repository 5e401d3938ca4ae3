"""The fallback chain, the settings that build it, and the price table (no network)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from shared.config import Settings
from shared.errors import ConfigError
from shared.llm.base import (
    Completion,
    CompletionRequest,
    ProviderError,
    RateLimited,
    Unavailable,
    retry_after_s,
)
from shared.llm.chain import Chain
from shared.llm.prices import UNKNOWN, Price, price
from shared.llm.registry import ProviderSpec, parse_spec, specs
from tests.conftest import MAIN_LOOP


def run(coro: Coroutine[Any, Any, None]) -> None:
    """On the suite's main loop: pytest-asyncio would leave this thread without one, and
    handler modules imported later (Mangum) would open a loop nobody closes."""
    MAIN_LOOP.run_until_complete(coro)


REQ = CompletionRequest("sys", "user", None, 10, "insight", "insight-1")


class ScriptedProvider:
    """A provider that plays a script: each entry an exception to raise or text to answer."""

    def __init__(self, name: str, script: list[Exception | str], finish: str = "stop") -> None:
        self.name, self.model = name, f"{name}-model"
        self.script, self.finish, self.calls = list(script), finish, 0

    async def complete(self, req: CompletionRequest) -> Completion:
        self.calls += 1
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if step == "slow":
            await asyncio.sleep(10)
        return Completion(step, self.finish, None, 5, 3, self.model, self.name)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def _test_llm_chain_honours_retry_after_then_backs_off() -> None:
    sleeps = Sleeps()
    p = ScriptedProvider(
        "openai", [RateLimited("429", retry_after=2.5), Unavailable("503"), '{"ok": 1}']
    )
    answer = await Chain([p], max_retries=2, backoff_s=0.1, sleep=sleeps).complete(REQ)
    assert (answer.text, answer.provider, p.calls) == ('{"ok": 1}', "openai", 3)
    assert sleeps.waits == [2.5, 0.2]


async def _test_llm_chain_falls_back_after_retries_and_on_truncation_or_timeout() -> None:
    sleeps = Sleeps()
    first = ScriptedProvider("openai", [Unavailable("503")] * 3)
    cut = ScriptedProvider("groq", ["{"], finish="length")
    slow = ScriptedProvider("huggingface", ["slow"])
    last = ScriptedProvider("local", ["{}"])
    chain = Chain([first, cut, slow, last], max_retries=2, timeout_s=0.05, sleep=sleeps)
    answer = await chain.complete(REQ)
    assert answer.provider == "local"
    assert (first.calls, cut.calls, slow.calls) == (3, 1, 1)


async def _test_llm_chain_every_failure_is_named() -> None:
    chain = Chain(
        [ScriptedProvider("openai", [ProviderError("openai: HTTP 401: bad key")])], max_retries=0
    )
    with pytest.raises(ProviderError) as info:
        await chain.complete(REQ)
    assert info.value.detail == "every LLM provider failed: openai: HTTP 401: bad key"


async def _test_llm_chain_too_long_retry_after_moves_on() -> None:
    sleeps = Sleeps()
    busy = ScriptedProvider("openai", [RateLimited("429", retry_after=3600)])
    chain = Chain([busy, ScriptedProvider("local", ["{}"])], sleep=sleeps)
    assert (await chain.complete(REQ)).provider == "local"
    assert sleeps.waits == []


def test_llm_settings_build_the_chain_with_keys_only_for_their_provider() -> None:
    settings = Settings(
        llm_provider="ollama",
        llm_model="llama3.2:3b",
        llm_fallback=("openai:gpt-4o-mini@http://127.0.0.1:9/v1", "groq", "local"),
        llm_fallback_api_keys="openai=sk-one, groq=gsk-two",  # type: ignore[arg-type]
    )
    assert specs(settings) == [
        ProviderSpec("ollama", "llama3.2:3b", None, ""),
        ProviderSpec("openai", "gpt-4o-mini", "http://127.0.0.1:9/v1", "sk-one"),
        ProviderSpec("groq", None, None, "gsk-two"),
        ProviderSpec("local", None, None, ""),
    ]
    assert parse_spec("ollama:qwen2.5:7b@http://gpu:11434", {}) == ProviderSpec(
        "ollama", "qwen2.5:7b", "http://gpu:11434", ""
    )


@pytest.mark.parametrize(
    ("fallback", "keys", "message"),
    [
        (("claude",), "", "QUARRY_LLM_FALLBACK: unknown provider 'claude' in 'claude'"),
        ((), "openai:sk-x", "QUARRY_LLM_FALLBACK_API_KEYS: each entry must be `provider=key`"),
    ],
)
def test_llm_settings_bad_chain_is_refused_clearly(
    fallback: tuple[str, ...], keys: str, message: str
) -> None:
    settings = Settings(llm_fallback=fallback, llm_fallback_api_keys=keys)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as info:
        specs(settings)
    assert str(info.value).startswith(message)
    assert "sk-x" not in str(info.value)


def test_llm_prices_known_snapshot_local_and_unknown() -> None:
    assert price("openai", "gpt-4o-mini") == Price(0.15, 0.60)
    assert price("openai", "gpt-4o-mini-2024-07-18") == Price(0.15, 0.60)
    assert price("openai", "gpt-4o-mini").cost(1_000_000, 500_000) == pytest.approx(0.45)
    assert price("ollama", "llama3.2") == Price(0.0, 0.0)
    assert price("huggingface", "meta-llama/Llama-3.1-8B-Instruct") is UNKNOWN
    assert UNKNOWN.known is False
    assert UNKNOWN.cost(10**6, 10**6) == 0.0


def test_llm_retry_after_header_seconds_only() -> None:
    assert retry_after_s({"retry-after": "1.5"}) == 1.5
    assert retry_after_s({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert retry_after_s({"retry-after": "-3"}) is None
    assert retry_after_s(None) is None


def test_llm_chain_honours_retry_after_then_backs_off() -> None:
    run(_test_llm_chain_honours_retry_after_then_backs_off())


def test_llm_chain_falls_back_after_retries_and_on_truncation_or_timeout() -> None:
    run(_test_llm_chain_falls_back_after_retries_and_on_truncation_or_timeout())


def test_llm_chain_every_failure_is_named() -> None:
    run(_test_llm_chain_every_failure_is_named())


def test_llm_chain_too_long_retry_after_moves_on() -> None:
    run(_test_llm_chain_too_long_retry_after_moves_on())

"""Providers and chains from the settings: each client library imported only when used."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

from shared.config import Settings
from shared.errors import ConfigError
from shared.llm.base import Provider
from shared.llm.chain import Chain
from shared.llm.local import LocalProvider

NAMES = ("local", "ollama", "openai", "groq", "huggingface")
# The clients' own timeout is a backstop: the chain's timeout fires first, as TimedOut.
CLIENT_TIMEOUT_MARGIN_S = 5.0


@dataclass(frozen=True)
class ProviderSpec:
    """One link of the chain as configured."""

    name: str
    model: str | None = None
    base_url: str | None = None
    api_key: str = ""


def parse_spec(entry: str, keys: dict[str, str]) -> ProviderSpec:
    """`name[:model][@base_url]` (the model may itself contain colons, as Ollama's do)."""
    head, _, url = entry.strip().partition("@")
    name, _, model = head.partition(":")
    name = name.strip().lower()
    if name not in NAMES:
        raise ConfigError(
            f"QUARRY_LLM_FALLBACK: unknown provider {name!r} in {entry!r}; "
            f"accepted providers are {', '.join(NAMES)}"
        )
    return ProviderSpec(name, model.strip() or None, url.strip() or None, keys.get(name, ""))


def parse_keys(raw: str) -> dict[str, str]:
    """`name=key,name=key` as a mapping; the message never shows a key."""
    keys: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, sep, key = part.partition("=")
        if not sep or name.strip().lower() not in NAMES or not key.strip():
            raise ConfigError(
                "QUARRY_LLM_FALLBACK_API_KEYS: each entry must be `provider=key` with a "
                f"provider among {', '.join(NAMES)}"
            )
        keys[name.strip().lower()] = key.strip()
    return keys


def specs(settings: Settings) -> list[ProviderSpec]:
    """The chain as configured: llm_provider, then each llm_fallback entry."""
    first = ProviderSpec(
        settings.llm_provider,
        settings.llm_model,
        settings.llm_base_url,
        settings.llm_api_key.get_secret_value(),
    )
    keys = parse_keys(settings.llm_fallback_api_keys.get_secret_value())
    return [first, *(parse_spec(e, keys) for e in settings.llm_fallback)]


def build(spec: ProviderSpec, timeout_s: float) -> Provider:
    """The provider for one spec; its client library is imported here, on first use."""
    timeout = timeout_s + CLIENT_TIMEOUT_MARGIN_S
    if spec.name == "local":
        return LocalProvider()
    if spec.name == "ollama":
        from shared.llm.ollama import OllamaProvider

        return OllamaProvider(model=spec.model, base_url=spec.base_url, timeout_s=timeout)
    if spec.name == "groq":
        from shared.llm.openai_compat import GroqProvider

        return GroqProvider(
            model=spec.model, base_url=spec.base_url, api_key=spec.api_key, timeout_s=timeout
        )
    from shared.llm.openai_compat import OpenAIProvider

    return OpenAIProvider(
        name=spec.name,
        model=spec.model,
        base_url=spec.base_url,
        api_key=spec.api_key,
        timeout_s=timeout,
    )


def is_offline(settings: Settings) -> bool:
    """True when every link is the local provider: no context limit, nothing to account."""
    return all(s.name == "local" for s in specs(settings))


def make_chain(settings: Settings) -> Chain:
    """A new chain for these settings (tests and benchmarks close it themselves)."""
    return Chain(
        [build(s, settings.llm_timeout_s) for s in specs(settings)],
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        concurrency=settings.llm_concurrency,
    )


_chains: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Settings, Chain]]
_chains = weakref.WeakKeyDictionary()


def chain_for(settings: Settings) -> Chain:
    """The process's chain for these settings on this event loop, built once: semaphores and
    HTTP connection pools are shared by every document the loop analyses."""
    loop = asyncio.get_running_loop()
    per_loop = _chains.setdefault(loop, {})
    found = per_loop.get(settings)
    if found is None:
        found = per_loop[settings] = make_chain(settings)
    return found


async def close_chains() -> None:
    """Close this loop's chains (their HTTP clients); the next call builds new ones."""
    for chain in _chains.pop(asyncio.get_running_loop(), {}).values():
        await chain.aclose()

"""The intelligence benchmarks, each with its premise stated.

`intelligence`: documents/s of a provider served on loopback (OpenAI's protocol) that answers
every call after a simulated latency L, at concurrency 1, 8 and 32, through the real `openai`
client, the fallback chain and the task runner (validation included, database accounting not).
With N calls in flight the most it can do is N ÷ (L × calls per document): each variant is
shown as a share of that ideal, beside its speed-up over concurrency 1, so the figures say what
the client costs rather than how long the sleep was.

`intelligence-offline`: documents/s of the offline default through the same task runner,
against the pure offline cores called directly (both CPU-bound, no simulated latency).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulator.stack.services.ports import free_port
from shared.cache import MemoryCache
from shared.errors import ConfigError
from shared.llm.base import Provider
from shared.llm.budget import Budget
from shared.llm.calls import Caller
from shared.llm.chain import Chain
from shared.llm.local import LocalProvider
from shared.llm.openai_compat import OpenAIProvider
from shared.llm.tasks import Options, analyse
from shared.pipeline.extract import extract
from shared.pipeline.offline import analyse_offline
from tools.bench.report import Benchmark, BenchOptions, Measurement, Meter, to_benchmark

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "tests/sites/demo/articles"
CONCURRENCY = (1, 8, 32)
BASELINE = "provider-c1"
LATENCY = "simulated provider latency (ms)"
CALLS = "provider calls per document (counted)"
DESCRIPTION = (
    "Documents per second through `shared.llm.tasks.analyse()` (summary, keywords, sentiment, "
    "entities; answers validated against the task's JSON Schema) with the `openai` client "
    "through the fallback chain against a loopback server speaking OpenAI's protocol that "
    "answers each call after the simulated latency (`provider-cN`: concurrency N, the chain's "
    f"per-provider limit set to N). ratio = docs/s ÷ `{BASELINE}`: the speed-up of "
    "concurrency, whose size depends on the latency; of ideal = docs/s ÷ (N ÷ (latency × calls "
    "per document)): what is left after the premise, the client's own cost."
)
OFFLINE_BASELINE = "offline-core"
OFFLINE_DESCRIPTION = (
    "Documents per second of the offline default (no network, no model): `offline` through "
    "`shared.llm.tasks.analyse()` with the `local` provider (prompt handling, JSON Schema "
    f"validation), against `{OFFLINE_BASELINE}`, `analyse_offline()` called directly; both at "
    "concurrency 1. ratio = what the task runner leaves of the cores' speed."
)
_NO_BUDGET = Budget()
ANSWER = {
    "summary": "A served summary.",
    "keywords": ["served"],
    "sentiment": 0.25,
    "sentiment_label": "positive",
    "entities": [{"text": "Quarry", "type": "organisation"}],
    "label": None,
    "label_scores": {},
}


def load_texts(directory: Path = PAGES) -> list[str]:
    """The demo articles' main text (extracted once, outside the measurement)."""
    if not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory of .html pages")
    texts = [
        extract(p.read_text(), f"https://bench.example/{p.name}").text
        for p in sorted(directory.glob("*.html"))
    ]
    texts = [t for t in texts if t]
    if not texts:
        raise ConfigError(f"no pages with text in {directory}")
    return texts


@dataclass
class LoopbackProvider:
    """An OpenAI-protocol server that answers after `latency_s` and counts the calls."""

    latency_s: float
    calls: int = 0

    async def complete(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.calls += 1
        await asyncio.sleep(self.latency_s)
        return JSONResponse(_completion(str(body.get("model", ""))))


def _completion(model: str) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": json.dumps(ANSWER)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


@contextmanager
def provider_server(provider: LoopbackProvider) -> Iterator[str]:
    """`provider` on a free loopback port, on its own thread and loop; yields its base URL."""
    routes = [Route("/v1/chat/completions", provider.complete, methods=["POST"])]
    app = Starlette(routes=routes)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join()


async def measure(
    name: str,
    provider: Provider,
    texts: list[str],
    total: int,
    concurrency: int,
    meter: Meter,
    ideal_rps: float | None = None,
) -> Measurement:
    """Analyse `total` documents (cycling `texts`) with `concurrency` in flight."""
    chain = Chain([provider], concurrency=concurrency, max_retries=0)
    times: list[float] = []
    queue = iter(range(total))

    async def worker() -> None:
        for i in queue:
            caller = Caller(chain, MemoryCache(), None, "bench", None, _NO_BUDGET, record=False)
            start = time.perf_counter()
            result = await analyse(texts[i % len(texts)], Options(), caller)
            times.append(time.perf_counter() - start)
            if result.status != "ok":
                raise ConfigError(f"intelligence bench: {name}: {result.detail}")
            meter.advance()

    began = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await chain.aclose()
    wall = time.perf_counter() - began
    return Measurement(
        name=name,
        requests=total,
        concurrency=concurrency,
        rps=total / wall,
        p50_ms=statistics.median(times) * 1000,
        p99_ms=_p99(times) * 1000,
        ideal_rps=ideal_rps,
    )


def _p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[98]


async def bench_intelligence(options: BenchOptions) -> Benchmark:
    """The provider at each concurrency, against concurrency 1 and against its ideal."""
    texts = load_texts()
    quick = options.requests < 1000
    latency_s = options.provider_latency_ms / 1000
    if not (math.isfinite(latency_s) and latency_s > 0):
        raise ConfigError(
            f"the simulated provider latency must be above 0 ms; got {options.provider_latency_ms}"
        )
    server = LoopbackProvider(latency_s)
    measured: list[Measurement] = []
    documents = 0
    with provider_server(server) as base:
        for concurrency in CONCURRENCY:
            docs = concurrency * (3 if quick else 10) + (10 if quick else 30)
            options.meter.start(f"provider c={concurrency}", docs)
            provider = OpenAIProvider(model="gpt-4o-mini", base_url=base, api_key="bench")
            before = server.calls
            found = await measure(
                f"provider-c{concurrency}", provider, texts, docs, concurrency, options.meter
            )
            # Every document of this benchmark is new to its caller's cache, so each one
            # costs the same number of calls; the ideal is counted, not assumed.
            per_document = (server.calls - before) / docs
            ideal = concurrency / (latency_s * per_document)
            measured.append(dataclasses.replace(found, ideal_rps=ideal))
            documents += docs
    parameters = {
        LATENCY: options.provider_latency_ms,
        CALLS: server.calls / documents,
    }
    return to_benchmark(
        "intelligence", DESCRIPTION, BASELINE, measured, unit="docs/s", parameters=parameters
    )


async def bench_intelligence_offline(options: BenchOptions) -> Benchmark:
    """The offline default through the task runner, against its cores called directly."""
    texts = load_texts()
    docs = max(len(texts), options.requests // 20)
    # Both variants after one untimed document: the first loads VADER's lexicon, a one-off
    # that would otherwise count against whichever variant ran first.
    analyse_offline(texts[0], language_hint="en")
    options.meter.start("offline cores", docs)
    core = _measure_cores(texts, docs, options.meter)
    options.meter.start("offline", docs)
    offline = await measure("offline", LocalProvider(), texts, docs, 1, options.meter)
    return to_benchmark(
        "intelligence-offline",
        OFFLINE_DESCRIPTION,
        OFFLINE_BASELINE,
        [offline, core],
        unit="docs/s",
    )


def _measure_cores(texts: list[str], total: int, meter: Meter) -> Measurement:
    times: list[float] = []
    began = time.perf_counter()
    for i in range(total):
        start = time.perf_counter()
        analyse_offline(texts[i % len(texts)])
        times.append(time.perf_counter() - start)
        meter.advance()
    wall = time.perf_counter() - began
    return Measurement(
        name=OFFLINE_BASELINE,
        requests=total,
        concurrency=1,
        rps=total / wall,
        p50_ms=statistics.median(times) * 1000,
        p99_ms=_p99(times) * 1000,
    )

"""The intelligence benchmark: documents/s of the offline default, and of a provider served
on loopback (OpenAI's protocol, a fixed simulated latency) at concurrency 1, 8 and 32.

The provider variants run the real `openai` client through the fallback chain and the task
runner (validation included), without the database accounting, against a local server that
answers every call after LATENCY_S; their ratio to `provider-c1` is the speed-up that
concurrency buys while the provider is the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
from tools.bench.report import Benchmark, BenchOptions, Measurement, Meter, to_benchmark

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "tests/sites/demo/articles"
LATENCY_S = 0.05
CONCURRENCY = (1, 8, 32)
BASELINE = "provider-c1"
DESCRIPTION = (
    "Documents per second (shown as req/s) through `shared.llm.tasks.analyse()` (summary, "
    "keywords, sentiment, entities; answers validated against the task's JSON Schema): the "
    "offline default (`offline`, concurrency 1), and the `openai` client through the fallback "
    f"chain against a loopback server speaking OpenAI's protocol that answers after "
    f"{LATENCY_S * 1000:.0f} ms (`provider-cN` at concurrency N, the chain's per-provider "
    f"limit set to N). ratio = docs/s ÷ `{BASELINE}`: the speed-up of concurrency."
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


async def _complete(request: Request) -> JSONResponse:
    body = await request.json()
    await asyncio.sleep(LATENCY_S)
    text = json.dumps(ANSWER)
    return JSONResponse(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }
    )


@contextmanager
def provider_server() -> Iterator[str]:
    """An OpenAI-protocol server on a free loopback port, on its own thread and loop."""
    app = Starlette(routes=[Route("/v1/chat/completions", _complete, methods=["POST"])])
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
    name: str, provider: Provider, texts: list[str], total: int, concurrency: int, meter: Meter
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
        p99_ms=statistics.quantiles(times, n=100, method="inclusive")[98] * 1000,
    )


async def bench_intelligence(options: BenchOptions) -> Benchmark:
    texts = load_texts()
    quick = options.requests < 1000
    offline_docs = max(len(texts), options.requests // 20)
    options.meter.start("offline", offline_docs)
    offline = await measure("offline", LocalProvider(), texts, offline_docs, 1, options.meter)
    measured = [offline]
    with provider_server() as base:
        for concurrency in CONCURRENCY:
            docs = concurrency * (3 if quick else 10) + (10 if quick else 30)
            options.meter.start(f"provider c={concurrency}", docs)
            provider = OpenAIProvider(model="gpt-4o-mini", base_url=base, api_key="bench")
            measured.append(
                await measure(
                    f"provider-c{concurrency}", provider, texts, docs, concurrency, options.meter
                )
            )
    return to_benchmark("intelligence", DESCRIPTION, BASELINE, measured)

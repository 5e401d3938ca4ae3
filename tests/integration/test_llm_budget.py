"""Run budgets: reserved atomically before each call, so concurrent calls cannot pass them,
on SQLite and on Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from shared.cache import MemoryCache
from shared.db.engine import SqlDatabase
from shared.db.models import Run, Source
from shared.llm.base import BudgetExceeded, Completion, CompletionRequest
from shared.llm.budget import Budget, reserve, spent
from shared.llm.calls import Caller
from shared.llm.chain import Chain
from shared.llm.openai_compat import OpenAIProvider
from shared.llm.tasks import Options, analyse
from tests.integration.llm_servers import serve

pytest_plugins = ("tests.integration.pg",)

ENGINES = ["sqlite", "postgres"]


@pytest.fixture(params=ENGINES)
async def ledger(request: pytest.FixtureRequest) -> AsyncIterator[tuple[SqlDatabase, str]]:
    url: str = request.getfixturevalue(f"migrated_{request.param}_url")
    db = SqlDatabase(url)
    async with db.writer() as s:
        source = Source(name="budget", kind="urls", urls=["https://example.test/"])
        s.add(source)
        await s.flush()
        run = Run(source_id=source.id, state="running")
        s.add(run)
    yield db, run.id
    await db.dispose()


async def test_llm_budget_eight_concurrent_reservations_never_pass_it(
    ledger: tuple[SqlDatabase, str],
) -> None:
    db, run_id = ledger
    budget = Budget(tokens=5000, usd=1.0)

    async def one() -> bool:
        try:
            await reserve(db, run_id, 1000, 0.01, budget)
        except BudgetExceeded:
            return False
        return True

    outcomes = await asyncio.gather(*(one() for _ in range(8)))
    assert sorted(outcomes) == [False] * 3 + [True] * 5
    assert await spent(db, run_id) == (5000, pytest.approx(0.05))
    async with db.reader() as s:
        run = await s.get(Run, run_id)
    assert run is not None
    assert (run.budget_tokens, run.budget_usd) == (5000, 1.0)


async def test_llm_budget_eight_concurrent_calls_stop_before_the_one_that_would_pass(
    ledger: tuple[SqlDatabase, str],
) -> None:
    db, run_id = ledger
    req = CompletionRequest("system", "user " * 40, None, 100, "insight", "insight-1")
    estimate = 100 + len("system" + "user " * 40) // 4 + 1
    budget = Budget(tokens=estimate * 3 + estimate // 2)
    with serve(latency_s=0.3) as server:
        chain = Chain([OpenAIProvider(base_url=server.base + "/v1")], concurrency=8)

        async def one(i: int) -> Completion | str:
            # Each call its own prompt, so none is answered from the cache.
            caller = Caller(chain, MemoryCache(), db, run_id, None, budget)
            try:
                return await caller.complete(
                    CompletionRequest(req.system, f"{req.user}{i}", None, 100, "insight", "v1")
                )
            except BudgetExceeded as exc:
                return exc.detail

        try:
            answers = await asyncio.gather(*(one(i) for i in range(8)))
        finally:
            await chain.aclose()
        assert server.requests == 3
    done = [a for a in answers if isinstance(a, Completion)]
    refused = [a for a in answers if isinstance(a, str)]
    assert len(done) == 3
    assert len(refused) == 5
    assert all(r.startswith("budget_exceeded: the next LLM call") for r in refused)
    tokens, _ = await spent(db, run_id)
    assert tokens == sum(a.input_tokens + a.output_tokens for a in done)
    assert tokens <= budget.tokens  # type: ignore[operator]


async def test_llm_budget_exceeded_document_makes_no_call(
    ledger: tuple[SqlDatabase, str],
) -> None:
    db, run_id = ledger
    with serve() as server:
        chain = Chain([OpenAIProvider(base_url=server.base + "/v1")])
        caller = Caller(chain, MemoryCache(), db, run_id, None, Budget(tokens=50))
        try:
            result = await analyse("A short page about libraries.", Options(), caller)
        finally:
            await chain.aclose()
        assert server.requests == 0
    assert result.status == "budget_exceeded"
    assert result.detail is not None
    assert "would pass run" in result.detail
    assert "budget of 50 tokens" in result.detail
    assert await spent(db, run_id) == (0, 0.0)

"""The intelligence stage with a provider: per-source labels and schema from the Sources API,
insights with accounting, a re-run answered from the cache, and a budget that stops it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from emulator.platform import Embedded
from functions.stages import intelligence
from shared.config import Settings
from shared.config_load import load_settings
from shared.db.models import Document, Insight, LlmCall, Run, StageResult
from shared.handlers.context import LambdaContext
from shared.lambda_events.sqs import message_record
from tests.integration.llm_servers import LLMServer, serve

SCHEMA = {
    "type": "object",
    "required": ["venue"],
    "properties": {"venue": {"type": "string"}, "price": {"type": ["number", "null"]}},
}
BODY = {
    "name": "news",
    "kind": "urls",
    "urls": ["https://example.test/a"],
    "intelligence": {"labels": {"culture": "arts and libraries"}, "schema": SCHEMA},
}


@pytest.fixture(scope="module")
def llm() -> Iterator[LLMServer]:
    with serve() as server:
        yield server


@pytest.fixture
def settings(settings: Settings, llm: LLMServer) -> Settings:
    """An OpenAI-compatible provider, on the suite's database (a copy of the migrated
    template)."""
    return load_settings(
        {
            "QUARRY_ENV": "test",
            "QUARRY_DATABASE_URL": settings.database_url,
            "QUARRY_SECRET_KEY": "test-secret-that-must-never-leak-0123456789",
            "QUARRY_RETRY_BACKOFF_S": "0.01",
            "QUARRY_LLM_PROVIDER": "openai",
            "QUARRY_LLM_BASE_URL": llm.base + "/v1",
            "QUARRY_LLM_API_KEY": "sk-stage-test",
        }
    )


async def seed(platform: Embedded, client: httpx.AsyncClient, text: str) -> tuple[str, str, str]:
    created = await client.post("/api/v1/sources", json=BODY)
    assert created.status_code == 201, created.text
    source = created.json()
    assert source["intelligence"] == {"labels": BODY["intelligence"]["labels"], "schema": SCHEMA}  # type: ignore[index]
    async with platform.runtime.db.writer() as s:
        doc = Document(source_id=source["id"], url="https://example.test/a", text=text)
        run = Run(source_id=source["id"], state="running", discovered=1)
        s.add_all([doc, run])
    return source["id"], run.id, doc.id


async def analyse(source_id: str, run_id: str, doc_id: str) -> None:
    body = {"run_id": run_id, "source_id": source_id, "document_id": doc_id}
    record = message_record("intelligence", body)
    ctx = LambdaContext("intelligence", timeout_s=30)
    result = await asyncio.to_thread(intelligence.handler, {"Records": [record]}, ctx)
    assert result == {"batchItemFailures": []}


async def test_llm_stage_stores_insight_with_labels_schema_and_accounting(
    platform: Embedded, client: httpx.AsyncClient, llm: LLMServer
) -> None:
    source_id, run_id, doc_id = await seed(platform, client, "The library reopened. Ada spoke.")
    before = llm.requests
    await analyse(source_id, run_id, doc_id)
    assert llm.requests - before == 2  # insight + extract
    async with platform.runtime.db.reader() as s:
        insight = (await s.scalars(select(Insight))).one()
        calls = (await s.scalars(select(LlmCall))).all()
        status = await s.scalar(select(StageResult.status))
        run = await s.get(Run, run_id)
    assert (insight.status, insight.label, insight.structured, insight.missing_fields) == (
        "ok",
        "culture",
        {"venue": "served"},
        ["price"],
    )
    assert (insight.provider, insight.model, insight.label_scores) == (
        "openai",
        "gpt-4o-mini",
        {"culture": 0.5},
    )
    assert insight.tokens == sum(c.input_tokens + c.output_tokens for c in calls) > 0
    assert run is not None
    assert run.spent_tokens == insight.tokens
    assert sorted(c.task for c in calls) == ["extract", "insight"]
    assert status == "succeeded"
    assert llm.seen[-1].headers["authorization"] == "Bearer sk-stage-test"
    shown = (await client.get(f"/api/v1/documents/{doc_id}")).json()["insights"][0]
    assert {k: shown[k] for k in ("status", "label", "structured", "entities", "tokens")} == {
        "status": "ok",
        "label": "culture",
        "structured": {"venue": "served"},
        "entities": [{"text": "served", "type": "person"}],
        "tokens": insight.tokens,
    }
    spent = (await client.get(f"/api/v1/runs/{run_id}")).json()
    budget = platform.settings.llm_run_budget_tokens  # finite by default
    assert (spent["spent_tokens"], spent["budget_tokens"]) == (insight.tokens, budget)
    assert spent["spent_usd"] == pytest.approx(insight.cost_usd)

    # The same document in a new run: answered from the cache, no request made.
    async with platform.runtime.db.writer() as s:
        again = Run(source_id=run.source_id, state="running", discovered=1)
        s.add(again)
    seen = llm.requests
    await analyse(source_id, again.id, doc_id)
    assert llm.requests == seen
    async with platform.runtime.db.reader() as s:
        cached = (await s.scalars(select(LlmCall).where(LlmCall.run_id == again.id))).all()
    assert [c.cached for c in cached] == [True, True]


@pytest.mark.parametrize(
    ("intelligence", "reason"),
    [
        (
            {"schema": {"type": "object", "properties": {"a": {"type": "nope"}}}},
            "not a valid JSON Schema at properties/a/type",
        ),
        ({"schema": {"type": "array"}}, 'must describe an object ("type": "object")'),
        ({"schema": {"type": "object", "$ref": "https://evil.test/s.json"}}, "only local `$ref`s"),
        ({"labels": {"": "empty"}}, "each label needs a name of 1 to 100 characters"),
        ({"prompt": "be nice"}, "Extra inputs are not permitted"),
    ],
)
async def test_llm_stage_source_options_refused_with_a_reason(
    client: httpx.AsyncClient, intelligence: dict[str, object], reason: str
) -> None:
    refused = await client.post("/api/v1/sources", json={**BODY, "intelligence": intelligence})
    assert refused.status_code == 422, refused.text
    assert reason in str(refused.json()), refused.text


async def test_llm_stage_budget_exceeded_skips_the_document_without_a_call(
    platform: Embedded, client: httpx.AsyncClient, llm: LLMServer
) -> None:
    source_id, run_id, doc_id = await seed(platform, client, "A page. " * 50)
    async with platform.runtime.db.writer() as s:
        run = await s.get(Run, run_id)
        assert run is not None
        run.budget_tokens = 100  # the run's own budget, below one call's estimate
    seen = llm.requests
    await analyse(source_id, run_id, doc_id)
    assert llm.requests == seen
    async with platform.runtime.db.reader() as s:
        result = (await s.scalars(select(StageResult))).one()
        insights = (await s.scalars(select(Insight))).all()
    assert (result.status, insights) == ("skipped", [])
    assert result.detail is not None
    assert result.detail.startswith("budget_exceeded: the next LLM call (about ")
    assert "budget of 100 tokens" in result.detail

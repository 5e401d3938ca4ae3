"""A stage added in the middle of the chain (tests/functions/wordgate.py, one line in the test
flow, one entry in the test function table): the demo site goes through it between
extraction and intelligence, which analyses only what it let through, and the run settles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dashboard.queries.runs import timeline
from emulator.platform import Embedded, embedded
from shared.config import Settings
from shared.db.models import Document, StageResult
from shared.repo import runs
from shared.runs import start_run
from tests.conftest import ROOT
from tests.functions import flow, wordgate
from tests.integration.conftest import poll

TABLE = ROOT / "tests/functions/serverless.yml"


@pytest.fixture
async def gated(settings: Settings, demo_site: str) -> AsyncIterator[Embedded]:
    host = demo_site.split("//", 1)[1]
    cfg = settings.model_copy(update={"fetch_allow_hosts": (host,)})
    async with embedded(cfg, TABLE, background=False, flow=flow.PIPELINE) as platform:
        yield platform


async def test_toy_stage_runs_between_extraction_and_intelligence(
    gated: Embedded, demo_site: str
) -> None:
    transport = httpx.ASGITransport(app=gated.gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://quarry.test") as client:
        body = {"name": "demo", "kind": "sitemap", "url": demo_site + "/sitemap.xml"}
        source = (await client.post("/api/v1/sources", json=body)).json()["id"]
    run_id = (await start_run(gated.runtime, source)).id

    async def final() -> dict[str, Any] | None:
        run = (await runs.get(gated.runtime, run_id)).model_dump()
        return run if run["state"] not in ("queued", "running") else None

    run = await poll("the gated run to finish", final, 120)
    await gated.idle()
    assert run["state"] == "succeeded"
    stages = run["stages"]
    extracted = stages["extraction"]["succeeded"]
    gate = stages["wordgate"]
    assert gate["succeeded"] + gate["skipped"] == extracted  # it saw every extracted document
    assert gate["skipped"] > 0  # and let some through, not all
    assert gate["succeeded"] > 0
    assert sum(stages["intelligence"].values()) == gate["succeeded"]  # only what it passed on
    async with gated.runtime.db.reader() as s:
        rows = await s.execute(
            select(Document.text, StageResult.status, StageResult.detail)
            .join(Document, Document.id == StageResult.document_id)
            .where(StageResult.run_id == run_id, StageResult.stage == "wordgate")
        )
        for text, status, detail in rows.all():
            words = len((text or "").split())
            assert (status == "succeeded") == (words >= wordgate.MIN_WORDS), (words, detail)
    spans = [span.stage for span in await timeline(gated.runtime, run_id)]
    assert spans[:4] == ["discovery", "extraction", "wordgate", "intelligence"]

    # The invocation ledger is written every second: wait until it holds every stage that ran.
    ran = ("discovery", "extraction", "wordgate", "intelligence")

    async def costed_fully() -> list[str] | None:
        cost = (await runs.get(gated.runtime, run_id)).model_dump()["cost"]
        names = [f["function"] for f in cost["functions"]]
        return names if set(ran) <= set(names) else None

    costed = await poll("the ledger to cost every stage of the gated run", costed_fully, 60)
    flow = [name for name in gated.runtime.flow.names if name in costed]
    assert "wordgate" in flow
    assert costed[-len(flow) :] == flow  # the run's cost lists its stages in the flow's order

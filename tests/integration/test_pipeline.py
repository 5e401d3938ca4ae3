"""The four-stage pipeline over the bundled demo site, end to end in the embedded platform."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import func, select

from emulator.platform import Embedded
from shared.db.models import Document, Insight, Rollup, StageResult
from tests.conftest import ROOT
from tests.integration.conftest import poll

LABELS = json.loads((ROOT / "tests/sites/demo/labels.json").read_text())


async def create_source(client: httpx.AsyncClient, site: str) -> str:
    source = await client.post(
        "/api/v1/sources", json={"name": "demo", "kind": "site", "url": site + "/"}
    )
    assert source.status_code == 201, source.text
    return str(source.json()["id"])


async def run_demo(
    client: httpx.AsyncClient, site: str, source_id: str | None = None
) -> dict[str, Any]:
    source_id = source_id or await create_source(client, site)
    started = await client.post("/api/v1/runs", json={"source_id": source_id})
    assert started.status_code == 202, started.text
    assert started.json()["state"] == "queued"
    run_id = started.json()["id"]

    async def final() -> dict[str, Any] | None:
        run = (await client.get(f"/api/v1/runs/{run_id}")).json()
        return run if run["state"] not in ("queued", "running") else None

    return dict(await poll(f"run {run_id} to finish", final))


async def test_pipeline_demo_site_end_to_end(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    run = await run_demo(client, demo_site)
    pages = LABELS["pages"]
    expected = {p["path"] for p in pages if p["in_sitemap"] or p["in_feed"]}
    assert run["state"] == "succeeded"
    assert run["discovered"] == len(expected) + len(LABELS["refused"])
    stages = run["stages"]
    assert stages["discovery"] == {"succeeded": run["discovered"], "failed": 0, "skipped": 0}
    assert stages["extraction"]["failed"] == 1  # the metadata address, refused
    assert stages["extraction"]["skipped"] == 2  # the gallery and one of the near-duplicates
    assert stages["intelligence"]["succeeded"] == len(expected) - 2

    await platform.idle()  # analytics runs once the run is final
    async with platform.runtime.db.reader() as s:
        refused = await s.scalar(select(StageResult.detail).where(StageResult.status == "failed"))
        docs = {d.url.split("/", 3)[3]: d for d in (await s.scalars(select(Document))).all()}
        rollups = await s.scalar(select(func.sum(Rollup.documents)))
        insights = (await s.scalars(select(Insight))).all()
    assert refused is not None
    assert "169.254.169.254" in refused
    assert "non-public" in refused
    by_path = {"/" + path: doc for path, doc in docs.items()}
    dup = next(p for p in pages if p["kind"] == "near_duplicate")
    pair = {dup["path"], dup["duplicate_of"]}
    marked = [path for path in pair if by_path[path].duplicate_of]
    assert len(marked) == 1, "exactly one of the near-duplicate pair is marked"
    for page in pages:
        if page["path"] in expected and page["kind"] == "article":
            assert by_path[page["path"]].language == page["language"], page["path"]
    assert rollups == len(insights) == len(expected) - 2
    labelled = {p["path"]: p["sentiment"] for p in pages}
    id_to_path = {doc.id: path for path, doc in by_path.items()}
    agree = sum(labelled[id_to_path[i.document_id]] == i.sentiment_label for i in insights)
    assert agree / len(insights) >= 0.6, f"sentiment agrees on {agree}/{len(insights)}"


async def test_pipeline_second_run_reuses_documents(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    source_id = await create_source(client, demo_site)
    first = await run_demo(client, demo_site, source_id)
    second = await run_demo(client, demo_site, source_id)
    # Nothing changed on the site: every analysed page is skipped as unchanged, none is
    # analysed again, and a run of unchanged documents still succeeds.
    assert second["state"] == "succeeded"
    analysed = first["stages"]["intelligence"]["succeeded"]
    assert second["stages"]["extraction"] == {
        "succeeded": 0,
        "failed": first["stages"]["extraction"]["failed"],
        "skipped": first["stages"]["extraction"]["skipped"] + analysed,
    }
    assert second["stages"].get("intelligence", {}).get("succeeded", 0) == 0
    async with platform.runtime.db.reader() as s:
        documents = await s.scalar(select(func.count()).select_from(Document))
        insights = await s.scalar(select(func.count()).select_from(Insight))
        unchanged = await s.scalar(
            select(func.count()).where(
                StageResult.run_id == second["id"],
                StageResult.detail == f"unchanged since run {first['id']}",
            )
        )
    assert documents == first["discovered"] == second["discovered"]
    assert insights == unchanged == analysed

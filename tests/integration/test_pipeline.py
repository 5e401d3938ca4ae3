"""The four-stage pipeline over the bundled demo site, end to end in the embedded platform."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from emulator.platform import Embedded
from shared.db.models import Document, Insight, Rollup, Run, StageResult
from shared.pipeline.feeds import parse_feed
from shared.pipeline.sitemap import parse_sitemap
from shared.pipeline.urls import normalize_url
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


def demo_rediscovered(since: datetime, site: str) -> tuple[list[str], list[str]]:
    """What a run of the demo site after `since` queues and what it skips as unchanged:
    sitemap entries without a usable lastmod come back, so do feed entries, unless the
    sitemap already left them out as unchanged (sitemaps are read before feeds)."""
    demo = ROOT / "tests/sites/demo"
    entries = parse_sitemap((demo / "sitemap.xml").read_bytes()).urls
    feed = [entry.url for entry in parse_feed((demo / "feed.xml").read_bytes())]

    def local(url: str) -> str:
        return normalize_url(url.replace(LABELS["base"], site))

    stale = [local(e.loc) for e in entries if e.lastmod is not None and e.lastmod < since]
    fresh = [local(e.loc) for e in entries if e.lastmod is None or e.lastmod >= since]
    queued = dict.fromkeys(url for url in [*fresh, *map(local, feed)] if url not in stale)
    return list(queued), stale


async def test_pipeline_second_run_reuses_documents(
    platform: Embedded,
    client: httpx.AsyncClient,
    demo_site: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="quarry.discovery")
    source_id = await create_source(client, demo_site)
    first = await run_demo(client, demo_site, source_id)
    second = await run_demo(client, demo_site, source_id)
    async with platform.runtime.db.reader() as s:
        since = await s.scalar(select(Run.created_at).where(Run.id == first["id"]))
        rediscovered = (
            await s.scalars(
                select(Document.url)
                .join(StageResult, StageResult.document_id == Document.id)
                .where(StageResult.run_id == second["id"], StageResult.stage == "discovery")
            )
        ).all()
        analysed_urls = set(
            (
                await s.scalars(
                    select(Document.url).join(Insight, Insight.document_id == Document.id)
                )
            ).all()
        )
        documents = await s.scalar(select(func.count()).select_from(Document))
        insights = await s.scalar(select(func.count()).select_from(Insight))
        unchanged = await s.scalar(
            select(func.count()).where(
                StageResult.run_id == second["id"],
                StageResult.detail == f"unchanged since run {first['id']}",
            )
        )
    assert since is not None
    since = since if since.tzinfo else since.replace(tzinfo=UTC)  # SQLite: naive UTC
    queued, stale = demo_rediscovered(since, demo_site)
    assert stale, "the demo sitemap's lastmods all predate the first run"
    # Only sitemap entries without a lastmod and feed entries come back; the rest of the
    # sitemap is left out as unchanged since the first run, and said so.
    assert second["state"] == "succeeded"
    assert sorted(rediscovered) == sorted(queued)
    assert second["discovered"] == len(queued)
    (report,) = [
        r
        for r in caplog.records
        if r.name == "quarry.discovery" and getattr(r, "run_id", None) == second["id"]
    ]
    assert report.skipped == len(stale)  # type: ignore[attr-defined]
    assert report.skipped_by_reason == {  # type: ignore[attr-defined]
        f"unchanged since {since:%Y-%m-%d %H:%M} UTC": len(stale)
    }
    # What is re-fetched is still deduplicated by content: nothing is analysed again.
    refused = [url for url in queued if url in map(normalize_url, LABELS["refused"])]
    reused = [url for url in queued if url in analysed_urls]
    assert second["stages"]["extraction"] == {
        "succeeded": 0,
        "failed": len(refused),
        "skipped": len(queued) - len(refused),
    }
    assert second["stages"].get("intelligence", {}).get("succeeded", 0) == 0
    assert documents == first["discovered"]
    assert insights == first["stages"]["intelligence"]["succeeded"]
    assert unchanged == len(reused) > 0

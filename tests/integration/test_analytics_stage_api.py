"""Analytics on the embedded platform: incremental and scheduled rollups, and the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import make_url, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from emulator.platform import Embedded, embedded
from functions.stages import analytics
from shared.config import Settings
from shared.db.models import Document, Insight, Rollup, Run, Source, StageResult
from shared.db.urls import async_url
from shared.handlers.context import LambdaContext
from shared.lambda_events.schedule import scheduled_event
from shared.lambda_events.sqs import message_record
from shared.repo import analytics as repo
from tests.conftest import ROOT

pytest_plugins = ("tests.integration.pg",)

TODAY = datetime.now(UTC).date()
ENTITY = {"text": "Moray East", "type": "organisation"}


async def seed(platform: Embedded) -> tuple[str, list[str]]:
    """A source with two runs: run 1 analysed four documents over three UTC days in the
    past weeks; run 2 analysed three today, two of them about "flood"."""
    docs: list[tuple[str, str | None, str, tuple[str, ...], str | None]] = [
        # run, published, sentiment label, keywords, label
        ("r1", (TODAY - timedelta(days=20)).isoformat(), "positive", ("wind", "grid"), "energy"),
        ("r1", (TODAY - timedelta(days=20)).isoformat(), "negative", ("wind",), "energy"),
        # 23:30 at UTC-5 the day before is today in UTC.
        ("r1", f"{TODAY - timedelta(days=1)}T23:30:00-05:00", "neutral", ("grid",), None),
        ("r1", (TODAY - timedelta(days=12)).isoformat(), "positive", ("wind",), "energy"),
        ("r2", None, "negative", ("flood", "wind"), "weather"),
        ("r2", None, "negative", ("flood",), "weather"),
        ("r2", TODAY.isoformat(), "neutral", ("flood", "grid"), "weather"),
    ]
    async with platform.runtime.db.writer() as s:
        source = Source(name="news", kind="urls", url=None, urls=[])
        s.add(source)
        await s.flush()
        runs = {
            name: Run(source_id=source.id, state="succeeded", discovered=3) for name in ("r1", "r2")
        }
        s.add_all(runs.values())
        await s.flush()
        for i, (run, published, label, keywords, topic) in enumerate(docs):
            doc = Document(source_id=source.id, url=f"https://n.test/{i}", published=published)
            s.add(doc)
            await s.flush()
            s.add(
                Insight(
                    run_id=runs[run].id,
                    document_id=doc.id,
                    summary="s",
                    keywords=list(keywords),
                    sentiment={"positive": 0.8, "neutral": 0.0, "negative": -0.6}[label],
                    sentiment_label=label,
                    language="en" if i % 2 else "de",
                    entities=[ENTITY, ENTITY] if run == "r2" else [],
                    label=topic,
                    provider="local",
                    model="m",
                )
            )
            for stage in ("extraction", "intelligence"):
                status = "failed" if (stage, i) == ("intelligence", 6) else "succeeded"
                s.add(
                    StageResult(run_id=runs[run].id, document_id=doc.id, stage=stage, status=status)
                )
    return source.id, [runs["r1"].id, runs["r2"].id]


async def rollup_days(platform: Embedded) -> dict[date, Rollup]:
    async with platform.runtime.db.reader() as s:
        return {r.day: r for r in (await s.scalars(select(Rollup))).all()}


async def after_run(source_id: str, run_id: str) -> dict[str, Any]:
    record = message_record("analytics", {"run_id": run_id, "source_id": source_id})
    return await analytics.handler.process({"Records": [record]}, LambdaContext("analytics"))


async def test_analytics_after_a_run_rewrites_only_the_days_it_touched(platform: Embedded) -> None:
    source_id, (run1, run2) = await seed(platform)
    assert await after_run(source_id, run2) == {"batchItemFailures": []}
    days = await rollup_days(platform)
    assert list(days) == [TODAY]
    today = days[TODAY]
    # Run 2's three documents plus run 1's late-evening one that is today in UTC.
    assert today.documents == 4
    assert today.sentiments == {"positive": 0, "neutral": 2, "negative": 2}
    assert today.labels == {"weather": 3}
    assert today.top_entities == [["Moray East", "organisation", 3]]
    assert today.terms == {"flood": 3, "grid": 2, "wind": 1}
    assert today.languages == {"de": 3, "en": 1}

    assert await after_run(source_id, run1) == {"batchItemFailures": []}
    assert sorted(await rollup_days(platform)) == [
        TODAY - timedelta(days=20),
        TODAY - timedelta(days=12),
        TODAY,
    ]


async def test_analytics_schedule_recomputes_all_and_drops_stale_days(platform: Embedded) -> None:
    source_id, _ = await seed(platform)
    async with platform.runtime.db.writer() as s:
        s.add(
            Rollup(
                source_id=source_id,
                day=date(2001, 1, 1),
                documents=9,
                languages={},
                top_keywords=[],
            )
        )
    event = scheduled_event("arn:aws:events:us-east-1:0:rule/quarry-analytics", datetime.now(UTC))
    result = await analytics.handler.process(event, LambdaContext("analytics"))
    assert result == {"batchItemFailures": []}
    days = await rollup_days(platform)
    assert sorted(days) == [TODAY - timedelta(days=20), TODAY - timedelta(days=12), TODAY]
    assert days[TODAY - timedelta(days=20)].documents == 2


async def test_analytics_api_serves_rollups_overview_trends_and_stages(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source_id, _ = await seed(platform)
    event = scheduled_event("arn:aws:events:us-east-1:0:rule/quarry-analytics", datetime.now(UTC))
    await analytics.handler.process(event, LambdaContext("analytics"))

    rollups = (
        await client.get("/api/v1/analytics/rollups", params={"source_id": source_id})
    ).json()
    assert [(r["day"], r["documents"]) for r in rollups["items"]] == [
        (str(TODAY - timedelta(days=20)), 2),
        (str(TODAY - timedelta(days=12)), 1),
        (str(TODAY), 4),
    ]
    assert rollups["items"][2]["top_entities"] == [
        {"text": "Moray East", "type": "organisation", "documents": 3}
    ]

    overview = (await client.get("/api/v1/analytics", params={"source_id": source_id})).json()
    assert overview["documents"] == 7
    assert overview["days"] == 3
    assert overview["sentiments"] == {"positive": 2, "neutral": 2, "negative": 3}
    assert overview["labels"] == {"energy": 3, "weather": 3}
    assert overview["top_keywords"][0] == {"term": "wind", "documents": 4}

    trends = (await client.get("/api/v1/analytics/trends", params={"window_days": 7})).json()
    assert [t["term"] for t in trends["items"]] == ["flood"]
    assert (trends["window_documents"], trends["baseline_documents"]) == (4, 3)
    assert trends["items"][0]["documents"] == 3

    stages = (await client.get("/api/v1/analytics/stages")).json()
    assert [(s["stage"], s["totals"]) for s in stages["items"]] == [
        ("extraction", {"succeeded": 7}),
        ("intelligence", {"succeeded": 6, "failed": 1}),
    ]
    assert stages["items"][1]["days"] == [{"day": str(TODAY), "succeeded": 6, "failed": 1}]


async def test_analytics_api_refuses_bad_periods_clearly(client: httpx.AsyncClient) -> None:
    backwards = await client.get(
        "/api/v1/analytics", params={"since": "2024-03-02", "until": "2024-03-01"}
    )
    assert backwards.status_code == 400
    assert "since (2024-03-02) is after until (2024-03-01)" in backwards.json()["detail"]
    too_long = await client.get(
        "/api/v1/analytics/rollups", params={"since": "2020-01-01", "until": "2024-01-01"}
    )
    assert too_long.status_code == 400
    assert (
        await_status(await client.get("/api/v1/analytics/trends", params={"window_days": 0})) == 422
    )
    assert (
        await_status(await client.get("/api/v1/analytics/rollups", params={"since": "soon"})) == 422
    )
    assert (await client.get("/api/v1/analytics/nothing-here")).status_code == 404
    for path in ("", "/rollups", "/trends", "/stages"):
        unknown = await client.get(f"/api/v1/analytics{path}", params={"source_id": "nope"})
        assert (unknown.status_code, unknown.json()["detail"]) == (
            404,
            "source nope does not exist",
        )
    empty = (await client.get("/api/v1/analytics/trends")).json()
    assert (empty["items"], empty["window_documents"]) == ([], 0)


def await_status(response: httpx.Response) -> int:
    assert response.headers["content-type"] == "application/problem+json"
    return response.status_code


async def test_analytics_on_postgres_counts_stage_days_in_utc(
    settings: Settings, migrated_postgres_url: str
) -> None:
    # Postgres takes a timestamp's date in the session's time zone unless told UTC; a
    # zone twelve or more hours away puts "now" on another date there than in UTC.
    zone = "Etc/GMT+12" if datetime.now(UTC).hour < 12 else "Etc/GMT-14"
    engine = create_async_engine(async_url(migrated_postgres_url))
    async with engine.begin() as conn:
        name = make_url(migrated_postgres_url).database
        await conn.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO '{zone}'"))
    await engine.dispose()
    cfg = settings.model_copy(update={"database_url": migrated_postgres_url})
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as platform:
        async with platform.runtime.db.reader() as s:
            assert await s.scalar(text("SHOW timezone")) == zone
        source_id, _ = await seed(platform)
        event = scheduled_event(
            "arn:aws:events:us-east-1:0:rule/quarry-analytics", datetime.now(UTC)
        )
        assert await analytics.handler.process(event, LambdaContext("analytics")) == {
            "batchItemFailures": []
        }
        found = await repo.rollups(platform.runtime, source_id, None, None)
        assert [r.documents for r in found.items] == [2, 1, 4]
        stages = await repo.stages(platform.runtime, None, None, None)
        assert [(s.stage, s.totals, [d.day for d in s.days]) for s in stages.items] == [
            ("extraction", {"succeeded": 7}, [TODAY]),
            ("intelligence", {"succeeded": 6, "failed": 1}, [TODAY]),
        ]


async def test_analytics_follows_a_demo_run_through_the_api(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    # The run-state hook: the run becomes final, analytics rolls its days up, the API shows them.
    from tests.integration.test_pipeline import run_demo

    run = await run_demo(client, demo_site)
    await platform.idle()
    async with platform.runtime.db.reader() as s:
        insights = (await s.scalars(select(Insight))).all()
    days = sorted(await rollup_days(platform))
    params = {"source_id": run["source_id"], "since": str(days[0]), "until": str(days[-1])}
    overview = (await client.get("/api/v1/analytics", params=params)).json()
    assert overview["documents"] == len(insights)
    assert sum(overview["sentiments"].values()) == len(insights)
    assert sum(overview["languages"].values()) == len(insights)
    assert {"en", "de", "fr", "es"} <= set(overview["languages"])
    assert overview["top_entities"]
    assert overview["top_keywords"]
    today = {"source_id": run["source_id"], "since": str(TODAY), "until": str(TODAY)}
    stages = (await client.get("/api/v1/analytics/stages", params=today)).json()
    totals = {s["stage"]: s["totals"] for s in stages["items"]}
    assert totals["intelligence"]["succeeded"] == len(insights)
    assert totals["extraction"]["failed"] == run["stages"]["extraction"]["failed"]

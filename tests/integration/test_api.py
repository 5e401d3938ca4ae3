"""The API as a user meets it: sources, runs, documents, lists and errors."""

from __future__ import annotations

import httpx

from emulator.platform import Embedded
from shared.db.models import Run
from tests.integration.conftest import poll

URLS = {"name": "list", "kind": "urls", "urls": ["https://example.org/a"]}


async def test_api_health_reports_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_api_sources_create_get_list_delete(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/sources", json=URLS)
    assert created.status_code == 201
    body = created.json()
    assert body["urls"] == ["https://example.org/a"]
    assert (await client.get(f"/api/v1/sources/{body['id']}")).json() == body
    assert [s["id"] for s in (await client.get("/api/v1/sources")).json()["items"]] == [body["id"]]
    assert (await client.delete(f"/api/v1/sources/{body['id']}")).status_code == 204
    gone = await client.get(f"/api/v1/sources/{body['id']}")
    assert gone.status_code == 404
    assert gone.json()["detail"] == f"source {body['id']} does not exist"


async def test_api_lists_paginate_with_opaque_cursor(client: httpx.AsyncClient) -> None:
    ids = []
    for i in range(5):
        created = await client.post("/api/v1/sources", json={**URLS, "name": f"s{i}"})
        ids.append(created.json()["id"])
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/sources", params=params)).json()
        assert len(page["items"]) <= 2
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))  # newest first, each exactly once
    first = (await client.get("/api/v1/sources", params={"limit": 2})).json()["next_cursor"]
    tampered = first[:-2] + ("AA" if not first.endswith("AA") else "BB")
    bad = await client.get("/api/v1/sources", params={"cursor": tampered})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["detail"].startswith("invalid cursor")
    too_many = await client.get("/api/v1/sources", params={"limit": 201})
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["path"] == "query.limit"


async def test_api_source_with_active_run_cannot_be_deleted(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = (await client.post("/api/v1/sources", json=URLS)).json()
    async with platform.runtime.db.writer() as s:  # hold the run active
        run = Run(source_id=source["id"], state="running", trigger="api")
        s.add(run)
    refused = await client.delete(f"/api/v1/sources/{source['id']}")
    assert refused.status_code == 409
    assert refused.json()["run_id"] == run.id
    assert run.id in refused.json()["detail"]


async def test_api_cancel_stops_remaining_dispatch(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    source = (await client.post("/api/v1/sources", json=URLS)).json()
    async with platform.runtime.db.writer() as s:
        run = Run(source_id=source["id"], state="running", trigger="api", discovered=3)
        s.add(run)
    cancelled = await client.post(f"/api/v1/runs/{run.id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    again = await client.post(f"/api/v1/runs/{run.id}/cancel")
    assert again.status_code == 409
    assert "already cancelled" in again.json()["detail"]


async def test_api_run_of_unknown_source_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/runs", json={"source_id": "nope"})
    assert response.status_code == 404
    assert set(response.json()) == {"type", "title", "status", "detail", "request_id"}


async def test_api_run_lists_filter_by_state(client: httpx.AsyncClient, demo_site: str) -> None:
    missing = {"name": "missing", "kind": "urls", "urls": [f"{demo_site}/missing.html"]}
    source = (await client.post("/api/v1/sources", json=missing)).json()
    started = (await client.post("/api/v1/runs", json={"source_id": source["id"]})).json()

    async def finished() -> dict[str, object] | None:
        run = (await client.get(f"/api/v1/runs/{started['id']}")).json()
        return run if run["state"] not in ("queued", "running") else None

    run = await poll("the run of one missing page to end", finished)
    assert run["state"] == "failed"  # every document failed: the page answers 404
    assert run["stages"]["extraction"] == {"succeeded": 0, "failed": 1, "skipped": 0}
    failed = (await client.get("/api/v1/runs", params={"state": "failed"})).json()["items"]
    assert [r["id"] for r in failed] == [started["id"]]
    assert (await client.get("/api/v1/runs", params={"state": "running"})).json()["items"] == []
    wrong = await client.get("/api/v1/runs", params={"state": "bogus"})
    assert wrong.status_code == 422


async def test_api_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    wrong_method = await client.put("/api/v1/health")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET"

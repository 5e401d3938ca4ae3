"""Per-source crawl options: accepted and validated by the Sources API, stored, and obeyed by
discovery when the source runs."""

from __future__ import annotations

import httpx

from emulator.platform import Embedded
from tests.integration.test_pipeline import run_demo


async def test_source_crawl_options_bound_the_run(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    crawl = {"max_depth": 1, "max_pages": 3, "exclude": ["/tag/"]}
    created = await client.post(
        "/api/v1/sources",
        json={"name": "crawl", "kind": "crawl", "url": demo_site + "/", "crawl": crawl},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["crawl"] == {
        "max_depth": 1,
        "max_pages": 3,
        "include": [],
        "exclude": ["/tag/"],
        "path_prefix": None,
        "follow_nofollow": False,
    }
    run = await run_demo(client, demo_site, body["id"])
    assert run["state"] == "succeeded", run
    assert run["discovered"] == 3


async def test_source_crawl_options_replaced_by_put(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    first = {"name": "c", "kind": "crawl", "url": demo_site + "/", "crawl": {"max_pages": 5}}
    source_id = (await client.post("/api/v1/sources", json=first)).json()["id"]
    second = {**first, "name": "renamed", "crawl": {"max_pages": 9, "path_prefix": "/articles/"}}
    replaced = await client.put(f"/api/v1/sources/{source_id}", json=second)
    assert replaced.status_code == 200, replaced.text
    fetched = (await client.get(f"/api/v1/sources/{source_id}")).json()
    assert fetched["name"] == "renamed"
    assert fetched["crawl"]["max_pages"] == 9
    assert fetched["crawl"]["path_prefix"] == "/articles/"
    missing = await client.put("/api/v1/sources/nope", json=second)
    assert missing.status_code == 404


async def test_source_crawl_options_refused_with_a_reason(
    platform: Embedded, client: httpx.AsyncClient, demo_site: str
) -> None:
    cases = [
        ({"kind": "sitemap", "crawl": {"max_pages": 3}}, "apply to `crawl` sources"),
        ({"kind": "crawl", "crawl": {"include": ["(oops"]}}, "not a valid regular expression"),
        ({"kind": "crawl", "crawl": {"exclude": [r"(a)\1"]}}, "invalid escape sequence: \\\\1"),
        ({"kind": "crawl", "crawl": {"include": ["(?=x)"]}}, "linear-time matching (RE2)"),
        ({"kind": "crawl", "crawl": {"max_depth": 99}}, "less than or equal to 10"),
        ({"kind": "crawl", "crawl": {"path_prefix": "blog"}}, "should match pattern"),
        ({"kind": "crawl", "crawl": {"speed": "fast"}}, "Extra inputs are not permitted"),
    ]
    for extra, reason in cases:
        body = {"name": "bad", "url": demo_site + "/", **extra}
        refused = await client.post("/api/v1/sources", json=body)
        assert refused.status_code == 422, (extra, refused.text)
        assert reason in refused.text, (extra, refused.text)
    listed = (await client.get("/api/v1/sources")).json()
    assert listed["items"] == []

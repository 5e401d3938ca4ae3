"""Both gateway paths agree: the Lambda event path through Mangum and direct ASGI."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from emulator.gateway import Gateway
from emulator.platform import Embedded, embedded
from emulator.table import load_table
from shared.config import Settings
from tests.conftest import ROOT
from tests.functions import slow

TABLE = ROOT / "tests/functions/serverless.yml"
RID = {"x-request-id": "req-fixed-0001"}


@pytest.fixture
async def echo_platform(settings: Settings) -> AsyncIterator[Embedded]:
    async with embedded(settings, TABLE, background=False) as p:
        yield p


@pytest.fixture
async def clients(
    echo_platform: Embedded,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    direct_gateway = Gateway(load_table(TABLE), mode="asgi")
    event = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=echo_platform.gateway), base_url="http://q.test"
    )
    direct = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=direct_gateway), base_url="http://q.test"
    )
    async with event, direct:
        yield event, direct
    direct_gateway.executor.shutdown()


def shape(response: httpx.Response) -> dict[str, Any]:
    headers = sorted(
        (k, v) for k, v in response.headers.multi_items() if k not in ("date", "server")
    )
    return {"status": response.status_code, "headers": headers, "body": response.content}


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("repeated query keys", "GET", {"url": "/echo/items/42?tag=a&tag=b&tag=c"}),
    ("set-cookie pair", "GET", {"url": "/echo/cookies"}),
    (
        "base64 binary body",
        "POST",
        {
            "url": "/echo/binary",
            "content": bytes(range(256)),
            "headers": {"content-type": "application/octet-stream"},
        },
    ),
    ("non-ASCII path", "GET", {"url": "/echo/items/caf%C3%A9-%E2%9C%93"}),
    ("proxy+ route", "GET", {"url": "/echo/deep/nested/path.txt"}),
    ("422 field paths", "POST", {"url": "/echo/items", "json": {"name": "", "qty": 0}}),
    (
        "created",
        "POST",
        {
            "url": "/api/v1/sources",
            "json": {"name": "s", "kind": "urls", "urls": ["https://example.org/a"]},
        },
    ),
    ("404 problem", "GET", {"url": "/api/v1/sources/does-not-exist"}),
    ("tampered cursor", "GET", {"url": "/api/v1/sources?cursor=AAAAAAAAAAAAAAAAAAAAAAAA"}),
]


@pytest.mark.parametrize(("name", "method", "kwargs"), CASES, ids=[c[0] for c in CASES])
async def test_paths_event_and_asgi_agree(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    name: str,
    method: str,
    kwargs: dict[str, Any],
) -> None:
    event, direct = clients
    kwargs = {**kwargs, "headers": {**kwargs.get("headers", {}), **RID}}
    via_event = await event.request(method, **kwargs)
    via_asgi = await direct.request(method, **kwargs)
    if name == "created":  # two creations: compare all but the new id and time
        a, b = via_event.json(), via_asgi.json()
        assert via_event.status_code == via_asgi.status_code == 201
        assert {k: v for k, v in a.items() if k not in ("id", "created_at")} == {
            k: v for k, v in b.items() if k not in ("id", "created_at")
        }
        return
    assert shape(via_event) == shape(via_asgi)


async def test_paths_cases_answer_what_users_expect(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    event, _ = clients
    tags = await event.get("/echo/items/42?tag=a&tag=b")
    assert tags.json() == {"item_id": "42", "tags": ["a", "b"], "path": "/echo/items/42"}
    cookies = await event.get("/echo/cookies")
    assert sorted(c.split("=")[0] for c in cookies.headers.get_list("set-cookie")) == [
        "session",
        "theme",
    ]
    binary = await event.post(
        "/echo/binary", content=b"\x00\xffab", headers={"content-type": "application/octet-stream"}
    )
    assert binary.content == b"ba\xff\x00"
    unicode = await event.get("/echo/items/caf%C3%A9")
    assert unicode.json()["item_id"] == "café"
    proxy = await event.get("/echo/a/b/c")
    assert proxy.json() == {"proxy": "a/b/c"}
    invalid = await event.post("/echo/items", json={"name": "", "qty": 0})
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    problem = invalid.json()
    assert {e["path"] for e in problem["errors"]} == {"body.name", "body.qty"}
    assert problem["status"] == 422
    assert problem["request_id"] == invalid.headers["x-request-id"]
    assert base64.b64encode(b"x")  # the event path carried binary bodies above


async def test_paths_event_path_runs_on_the_gateways_loop(
    echo_platform: Embedded, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    # Mangum handlers translate their events on the gateway's loop: after a burst of
    # concurrent requests through the event path, the executor (kept for synchronous
    # handlers) has started no thread at all.
    event, _ = clients
    answers = [event.get(f"/echo/items/{n}", headers=RID) for n in range(20)]
    for answer in await asyncio.gather(*answers):
        assert answer.status_code == 200
    assert len(echo_platform.gateway.executor._threads) == 0


async def test_paths_event_path_runs_at_most_the_gateways_concurrency(
    echo_platform: Embedded,
) -> None:
    # Each invocation on the loop may hold one of its database connections, so the gateway
    # runs at most `concurrency` at once (the pool is sized from it); the rest wait their turn.
    gateway = Gateway(load_table(TABLE), concurrency=1)
    slow.peak = 0
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://q.test")
    async with client:
        answers = await asyncio.gather(*(client.get("/slow/20") for _ in range(2)))
    assert [a.status_code for a in answers] == [200, 200]
    assert slow.peak == 1  # the second ran after the first, not beside it

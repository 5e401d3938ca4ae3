"""Read-your-writes tokens: their format, and how an HTTP function takes and hands them back."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from shared.db import routing
from shared.handlers.http import create_app


@pytest.mark.parametrize(
    ("token", "lsn"),
    [
        ("0/0", 0),
        ("0/3000148", 0x3000148),
        ("16/B374D848", 0x16 << 32 | 0xB374D848),
        ("FFFFFFFF/FFFFFFFF", 2**64 - 1),
    ],
)
def test_tokens_are_pg_lsn_text(token: str, lsn: int) -> None:
    assert routing.parse_lsn(token) == lsn
    assert routing.format_lsn(lsn) == token


@pytest.mark.parametrize(
    "token",
    [
        "",
        "0",
        "0/",
        "/0",
        "16/b374d848",  # Postgres writes upper case
        "123456789/0",
        "0/123456789",
        "0/0/0",
        " 0/0",
        "0/0\n",
        "0x1/0",
        "-1/0",
        "G/0",
        "０/０",  # full-width digits
    ],
)
def test_malformed_tokens_are_ignored(token: str) -> None:
    assert routing.parse_lsn(token) is None


def test_writes_keep_the_highest_position_within_a_scope() -> None:
    with routing.request_scope(7) as mark:
        assert routing.last_written() is None
        assert routing.min_lsn.get() == 7
        routing.note_written(20)
        routing.note_written(10)
        assert mark.lsn == 20 == routing.last_written()
    assert routing.last_written() is None
    assert routing.min_lsn.get() is None


def app_that_writes(lsn: int | None) -> httpx.AsyncClient:
    app = create_app("routing-test", title="routing test")

    @app.get("/t")
    async def endpoint() -> dict[str, int | None]:
        async def write() -> None:
            if lsn is not None:
                routing.note_written(lsn)

        await asyncio.gather(write())  # a child task: its write is still the request's
        return {"min_lsn": routing.min_lsn.get()}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://q.test")


async def test_a_response_that_wrote_hands_back_the_token() -> None:
    async with app_that_writes(0x16_B374D848) as client:
        response = await client.get("/t")
    assert response.headers["x-quarry-lsn"] == "16/B374D848"
    assert response.headers["set-cookie"] == (
        "quarry_lsn=16/B374D848; Max-Age=60; Path=/; HttpOnly; SameSite=Lax"
    )
    assert routing.last_written() is None  # reset after the request


async def test_a_response_that_did_not_write_has_no_token() -> None:
    async with app_that_writes(None) as client:
        response = await client.get("/t", headers={"x-quarry-lsn": "1/0"})
    assert "x-quarry-lsn" not in response.headers
    assert "set-cookie" not in response.headers
    assert response.json() == {"min_lsn": 1 << 32}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-quarry-lsn": "0/3000148"}, 0x3000148),
        ({"cookie": "a=b; quarry_lsn=2/10; c=d"}, 2 << 32 | 0x10),
        ({"x-quarry-lsn": "0/1", "cookie": "quarry_lsn=9/9"}, 1),  # the header wins
        ({"x-quarry-lsn": "0/1; drop table"}, None),
        ({"cookie": "quarry_lsn=nope"}, None),
        ({}, None),
    ],
)
async def test_the_token_is_read_from_header_or_cookie(
    headers: dict[str, str], expected: int | None
) -> None:
    async with app_that_writes(None) as client:
        response = await client.get("/t", headers=headers)
    assert response.json() == {"min_lsn": expected}


class NoSession:
    """A session that must not be asked anything."""

    async def scalar(self, *args: object) -> None:
        raise AssertionError("the commit position was queried")


async def test_an_unpositioned_scope_marks_a_write_without_querying_its_position() -> None:
    router = routing.ReadRouter(max_lag_s=1.0)
    with routing.unpositioned_scope():
        assert routing.last_written() is None
        await router.after_commit(NoSession())  # type: ignore[arg-type]
        assert routing.last_written() == 0  # written: later reads go to the primary
    assert routing.last_written() is None

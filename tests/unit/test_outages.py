"""A dependency outage (the database or the queue unreachable) is a 503 with Retry-After and the
request id, never a 500; every other error keeps its own answer."""

from __future__ import annotations

import httpx
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from taskiq.exceptions import SendTaskError

from shared.runtime.http import as_unavailable, create_app


def refused() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "Connection refused"))


def test_outages_database_refusing_connections_is_503_with_retry_after() -> None:
    outage = as_unavailable(refused())
    assert outage is not None
    assert outage.status == 503
    assert outage.extra["headers"] == {"Retry-After": "5"}
    assert outage.detail.startswith("the database is unreachable for the moment")


def test_outages_dropped_connection_is_503_and_a_constraint_is_not() -> None:
    dropped = InterfaceError("SELECT 1", {}, OSError("closed"), connection_invalidated=True)
    assert as_unavailable(dropped) is not None
    assert as_unavailable(InterfaceError("SELECT 1", {}, OSError("cursor closed"))) is None
    assert as_unavailable(IntegrityError("INSERT", {}, ValueError("duplicate key"))) is None
    assert as_unavailable(ValueError("a bug")) is None


def test_outages_queue_send_failure_is_503_through_its_cause() -> None:
    try:
        try:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379")
        except RedisConnectionError as exc:
            raise SendTaskError() from exc
    except SendTaskError as exc:
        outage = as_unavailable(exc)
    assert outage is not None
    assert outage.detail.startswith("the queue is unreachable for the moment")


async def test_outages_answer_503_problem_with_request_id_from_a_route_and_middleware() -> None:
    app = create_app("outages", title="outages")

    @app.get("/database")
    async def database() -> None:
        raise refused()

    @app.get("/queue")
    async def queue() -> None:
        raise SendTaskError() from RedisConnectionError("gone")

    @app.get("/bug")
    async def bug() -> None:
        raise IntegrityError("INSERT", {}, ValueError("duplicate key"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://quarry.test") as client:
        answers = {
            path: await client.get(path, headers={"x-request-id": f"rid-{path[1:]}"})
            for path in ("/database", "/queue", "/bug")
        }
    for path in ("/database", "/queue"):
        answer = answers[path]
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "5"
        assert answer.headers["x-request-id"] == f"rid-{path[1:]}"
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert body["status"] == 503
        assert body["request_id"] == f"rid-{path[1:]}"
        assert body["type"] == "https://quarry.dev/problems/unavailable"
    assert answers["/bug"].status_code == 500
    assert answers["/bug"].json()["request_id"] == "rid-bug"

"""A dependency outage (the database or the queue unreachable) is a 503 with Retry-After and the
request id, never a 500; every other error keeps its own answer."""

from __future__ import annotations

import sqlite3

import asyncpg
import httpx
import psycopg
from fastapi import APIRouter
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from taskiq.exceptions import SendTaskError

from dashboard import web
from shared.errors import QuarryError
from shared.handlers.http import create_app
from shared.outages import as_unavailable


def refused() -> OperationalError:
    failed = psycopg.OperationalError("connection failed: Connection refused")
    return OperationalError("SELECT 1", {}, failed)


def postgres(sqlstate: str, message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, psycopg.errors.lookup(sqlstate)(message))


def test_outages_database_refusing_connections_is_503_with_retry_after() -> None:
    outage = as_unavailable(refused())
    assert outage is not None
    assert outage.status == 503
    assert outage.extra["headers"] == {"Retry-After": "5"}
    assert outage.detail.startswith("the database is unreachable for the moment")


def test_outages_postgres_shutting_down_is_503_and_its_other_errors_are_not() -> None:
    assert as_unavailable(postgres("57P03", "the database system is shutting down"))
    assert as_unavailable(postgres("57P01", "terminating connection due to administrator"))
    assert as_unavailable(postgres("53300", "too many clients already"))
    assert as_unavailable(postgres("40001", "could not serialize access")) is None
    missing = sqlite3.OperationalError("no such table: rollups")  # SQLite's, no server down
    assert as_unavailable(OperationalError("SELECT 1", {}, missing)) is None


def from_asyncpg(error: Exception) -> DBAPIError:
    """An asyncpg error as SQLAlchemy's asyncpg dialect raises it: the server's errors on a
    plain DBAPIError around the dialect's adapted error, SQLSTATE and all."""
    return DBAPIError("SELECT 1", {}, AsyncAdapt_asyncpg_dbapi.Error(str(error), error))


def test_outages_asyncpg_connection_failures_are_503_and_its_other_errors_are_not() -> None:
    starting = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
    assert as_unavailable(from_asyncpg(starting))
    gone = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
    assert as_unavailable(from_asyncpg(gone))
    assert as_unavailable(from_asyncpg(asyncpg.exceptions.AdminShutdownError("terminating")))
    assert as_unavailable(from_asyncpg(asyncpg.exceptions.TooManyConnectionsError("too many")))
    # the engine reports a connect that failed at the socket as 08001 (shared/db/engine.py)
    refused = AsyncAdapt_asyncpg_dbapi.OperationalError("cannot connect to the database")
    refused.sqlstate = "08001"
    assert as_unavailable(OperationalError("connect", {}, refused))
    # a peer that is not the database (an LLM provider, a fetched site) is no database outage
    assert as_unavailable(ConnectionRefusedError(111, "Connect call failed")) is None
    assert as_unavailable(ConnectionResetError(104, "Connection reset by peer")) is None
    serialize = asyncpg.exceptions.SerializationError("could not serialize access")
    assert as_unavailable(from_asyncpg(serialize)) is None
    missing = asyncpg.exceptions.UndefinedTableError('relation "rollups" does not exist')
    assert as_unavailable(from_asyncpg(missing)) is None
    assert as_unavailable(FileNotFoundError(2, "no such file")) is None


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


async def test_outages_dashboard_page_is_the_503_page_not_the_500_one() -> None:
    app = create_app("pages", title="pages")
    app.add_exception_handler(QuarryError, web.quarry_error)
    router = APIRouter(route_class=web.PageRoute)

    @router.get("/page")
    async def page() -> None:
        raise refused()

    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://quarry.test") as client:
        answer = await client.get("/page", headers={"x-request-id": "rid-page"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.headers["x-request-id"] == "rid-page"
    assert answer.headers["content-type"].startswith("text/html")

"""Outage classification: which errors mean a dependency is unreachable for the moment.

The database refusing or dropping connections, shutting down or starting up, out of
connections, or its pool exhausted, and a Redis that is gone or still loading are an outage:
the API answers 503 with `Retry-After`, the dashboard its 503 page, and a worker holds its
message instead of spending an attempt. Any other error, a missing table or a constraint
among them, is not. The HTTP adapter, the dashboard and the stack's workers ask here.
"""

from __future__ import annotations

from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from shared.errors import UnavailableError

# A dependency that is down (the primary restarting, Redis gone): the client is told to come
# back, never answered with a 500.
OUTAGE_RETRY_AFTER_S = 5
QUEUE_OUTAGES = (RedisConnectionError, RedisTimeoutError, BusyLoadingError)  # loading: restarting


def as_unavailable(exc: BaseException) -> UnavailableError | None:
    """The 503 an error means when it says a dependency is unreachable (the database refusing
    or dropping connections, shutting down or starting up, its pool exhausted; Redis gone or
    loading), directly or as the cause of a client's own error (taskiq's SendTaskError); None
    for any other error, a missing table or a constraint among them."""
    link: BaseException | None = exc
    for _ in range(4):
        if link is None:
            return None
        queue = isinstance(link, QUEUE_OUTAGES)
        if queue or isinstance(link, PoolTimeoutError) or _database_down(link):
            return UnavailableError(
                f"{'the queue' if queue else 'the database'} is unreachable for the moment "
                f"(it may be restarting); try again in {OUTAGE_RETRY_AFTER_S} s",
                headers={"Retry-After": str(OUTAGE_RETRY_AFTER_S)},
            )
        link = link.__cause__
    return None


def _database_down(exc: BaseException) -> bool:
    """A connection lost or refused, or a Postgres error of the connection (08), resources (53)
    or shutdown and start-up (57P) classes. asyncpg reports the server's errors with their
    SQLSTATE (CannotConnectNowError 57P03, ConnectionDoesNotExistError 08003) on a plain
    DBAPIError, and a failed connect as an OperationalError with 08001 (shared/db/engine.py
    translates the socket's errors, which asyncpg lets through); psycopg's client-side failures
    are OperationalErrors without a SQLSTATE. SQLite's OperationalError (a missing table, a
    locked file) is no outage of a server, and an OSError of any other peer (an LLM provider,
    a fetched site) is none of the database's."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not hasattr(exc.orig, "sqlstate"):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    if state is None:
        return isinstance(exc, OperationalError)
    return str(state).startswith(("08", "53", "57P"))

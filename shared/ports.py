"""The port bundle: what a handler reaches outside itself, as typed interfaces.

`Runtime` bundles the settings with six ports (database, dispatcher, cache, fetcher, limiter,
politeness) and the pipeline's flow. This module holds interfaces only and imports nothing of
Quarry's but the settings, the error tree and the flow declaration (pure): every
implementation imports it, never the reverse. One composition root,
`shared.composition.build_runtime()`, chooses and builds the implementations for each kind of
process; the process installs the bundle and handlers read it with `current()`.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from shared.config import Settings
from shared.errors import ConfigError
from shared.flow import FLOW, Flow


class Transactions(Protocol):
    """What writes need of the database: a transaction on the primary, committed when the
    block ends. A `Database`, or a stage invocation's one connection
    (`shared.handlers.connection.OneConnection`)."""

    def writer(self) -> AbstractAsyncContextManager[AsyncSession]: ...


class Database(Transactions, Protocol):
    """Sessions on the primary (one transaction, committed when the block ends) and on a
    reader (the replica when it can serve the read)."""

    def reader(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    async def dispose(self) -> None: ...


class Dispatcher(Protocol):
    """Delivers message bodies to a stage: Taskiq locally, SQS in the cloud."""

    async def send(self, stage: str, bodies: Sequence[dict[str, Any]]) -> None: ...


class Cache(Protocol):
    """Byte values with a time to live; a miss is None, never an error."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def incr(self, key: str, ttl_s: float) -> int:
        """Add one to a counter that lives `ttl_s` from its first count, atomically (two
        callers never both see the same value); 0 when the count could not be made."""
        ...


@dataclass(frozen=True)
class Page:
    """A response the fetcher read in full: final URL, status, content type, decoded body.
    Any HTTP status comes back as a Page (a 404 robots.txt means something); callers decide."""

    url: str
    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Fetcher(Protocol):
    """GETs pages safely (checked addresses, bounded size and time, polite, obeying robots.txt);
    every failure is a `shared.fetch.FetchError`."""

    settings: Settings

    async def get(
        self,
        url: str,
        *,
        types: Collection[str] | None = ...,
        max_bytes: int | None = ...,
        headers: Mapping[str, str] | None = ...,
        truncate: bool = ...,
        obey_robots: bool = ...,
    ) -> Page: ...

    async def check(self, url: str) -> None: ...


class Limiter(Protocol):
    """Reserved concurrency: at most `limit` executions of a function at once."""

    async def acquire(self, function: str, limit: int, lease_s: float) -> str | None:
        """A lease token, or None when `limit` executions are already running."""
        ...

    async def release(self, function: str, token: str) -> None: ...


class Politeness(Protocol):
    """One request at a time per host, then a pause before the next."""

    async def acquire(self, key: str, lease_s: float) -> str:
        """Wait until this process may send the next request to `key` (host:port); a token."""
        ...

    async def release(self, key: str, token: str, wait_s: float) -> None:
        """Free the slot; no request to `key` starts for `wait_s` seconds from now."""
        ...


Hook = Callable[[], Awaitable[None]]


@dataclass
class Runtime:
    """The settings and ports of one process (or one Lambda execution environment).
    `start()` readies what needs the running loop; `close()` releases it all."""

    settings: Settings
    db: Database
    dispatcher: Dispatcher
    cache: Cache
    fetcher: Fetcher
    limiter: Limiter
    politeness: Politeness
    flow: Flow = FLOW  # the stages and what each sends to (tests run others)
    on_start: list[Hook] = field(default_factory=list)
    on_close: list[Hook] = field(default_factory=list)

    async def start(self) -> None:
        for hook in self.on_start:
            await hook()

    async def close(self) -> None:
        for hook in self.on_close:
            await hook()
        await self.db.dispose()


Builder = Callable[[], Runtime]

_lock = threading.Lock()
_current: Runtime | None = None
_builder: Builder | None = None


def install(runtime: Runtime | None) -> None:
    """Make `runtime` the one handlers use (None uninstalls it)."""
    global _current
    with _lock:
        _current = runtime


def build_on_first_use(builder: Builder | None) -> None:
    """Let `current()` build the runtime when none is installed (a Lambda execution
    environment, where nothing runs before the first invocation); None forgets the builder."""
    global _builder
    with _lock:
        _builder = builder


def current() -> Runtime:
    """The installed runtime; in Lambda, built once by the builder the handler registered."""
    global _current
    with _lock:
        if _current is None:
            if _builder is None:
                raise ConfigError(
                    "no runtime installed: run functions through `quarry dev`, `quarry invoke` "
                    "or `quarry up`, which install one"
                )
            _current = _builder()
        return _current

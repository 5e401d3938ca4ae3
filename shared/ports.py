"""The process's runtime: settings, the ports (database, dispatch, cache, fetcher) and the
pipeline's flow.

The emulator installs one before invoking handlers; in Lambda the first invocation builds
it from the environment, the only place that reads it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from shared.cache import Cache, MemoryCache
from shared.config import Settings, load_settings
from shared.db.engine import Database
from shared.dispatch import Dispatcher
from shared.errors import ConfigError
from shared.fetch import Fetcher
from shared.fetch.polite import MemoryPoliteness, Politeness
from shared.flow import FLOW, Flow
from shared.handlers.concurrency import Limiter, MemoryLimiter


@dataclass
class Runtime:
    settings: Settings
    db: Database
    dispatcher: Dispatcher
    cache: Cache = field(default_factory=MemoryCache)
    fetcher: Fetcher | None = None
    limiter: Limiter = field(default_factory=MemoryLimiter)
    politeness: Politeness = field(default_factory=MemoryPoliteness)
    flow: Flow = FLOW  # the stages and what each sends to (tests run others)

    def __post_init__(self) -> None:
        if self.fetcher is None:  # polite, and obeying robots.txt cached in the cache port
            self.fetcher = Fetcher(self.settings, politeness=self.politeness, cache=self.cache)

    @property
    def fetch(self) -> Fetcher:
        assert self.fetcher is not None
        return self.fetcher


_lock = threading.Lock()
_current: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    """Make `runtime` the one handlers use (None uninstalls it)."""
    global _current
    with _lock:
        _current = runtime


def current() -> Runtime:
    """The installed runtime; in Lambda, built once from the environment."""
    global _current
    with _lock:
        if _current is None:
            _current = _from_environment()
        return _current


def _from_environment() -> Runtime:
    settings = load_settings(os.environ)
    if settings.env == "lambda":  # boto3 and the AWS ports are imported only here
        from shared.aws.runtime import lambda_runtime

        return lambda_runtime(settings)
    if settings.queue != "memory":
        raise ConfigError(f"QUARRY_QUEUE={settings.queue} is not available in this runtime yet")
    raise ConfigError(
        "no runtime installed: run functions through `quarry dev`, `quarry invoke` or "
        "`quarry up`, which install one"
    )

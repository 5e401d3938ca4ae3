"""A private Redis on loopback for the stack: a durable queue that never evicts, or an LRU cache."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from typing import Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from shared.errors import ConfigError
from shared.redaction import redact_url

Role = Literal["queue", "cache"]


class RedisServer:
    """One `redis-server` in `data_dir` on 127.0.0.1:`port`, configured for its `role`.

    queue: every write is appended to the AOF and fsynced each second (at most a second of
    messages lost in a crash), and a full server refuses writes (`noeviction`) instead of
    silently dropping messages. RDB snapshots are off: the AOF (with its RDB preamble on
    rewrite) already restarts fast, and a failed background save would stop all writes.
    cache: nothing persisted; at `maxmemory` the least recently used keys go.

    A supervisor calls `prepare()`, runs `argv()` as a foreground child (its log is stdout),
    polls `ready()` and stops it with `stop_signal`, on which Redis flushes the AOF and exits.
    """

    stop_signal: signal.Signals = signal.SIGTERM

    def __init__(
        self,
        data_dir: Path,
        port: int,
        role: Role,
        *,
        maxmemory: str = "128mb",
        password: str | None = None,
    ) -> None:
        if role not in ("queue", "cache"):
            raise ConfigError(f"unknown Redis role {role!r}; use 'queue' or 'cache'")
        self.data_dir = data_dir.resolve()
        self.port = port
        self.role = role
        self.maxmemory = maxmemory
        self.password = password  # `quarry up` always sets one; a test's own server may not
        self.conf_file = self.data_dir / "redis.conf"

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def prepare(self) -> None:
        """Create `data_dir` and (re)write the config (mode 0600: it holds the password), so
        a changed port, role or password takes effect."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.conf_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as conf:
            conf.write("".join(f"{line}\n" for line in self.conf_lines()))
        self.conf_file.chmod(0o600)

    def argv(self) -> list[str]:
        server = shutil.which("redis-server")
        if server is None:
            raise ConfigError("redis-server is not on PATH; install Redis 6.2 or newer")
        return [server, str(self.conf_file)]

    async def ready(self) -> bool:
        """Whether the server answers PING now; never raises."""
        client = aioredis.Redis(
            host="127.0.0.1", port=self.port, password=self.password, socket_connect_timeout=1
        )
        try:
            return bool(await client.ping())
        except (RedisError, OSError):
            return False
        finally:
            await client.aclose()

    def conf_lines(self) -> list[str]:
        common = [
            "bind 127.0.0.1",
            "protected-mode yes",
            f"port {self.port}",
            f'dir "{self.data_dir}"',
            'logfile ""',
            "daemonize no",
            'save ""',
            f"maxmemory {self.maxmemory}",
            *([f'requirepass "{self.password}"'] if self.password else []),
        ]
        if self.role == "queue":
            durable = ["appendonly yes", "appendfsync everysec", "maxmemory-policy noeviction"]
            return [*common, *durable]
        return [*common, "appendonly no", "maxmemory-policy allkeys-lru"]


async def check_queue_server(url: str) -> None:
    """Refuse a queue Redis that may evict keys: under memory pressure it would drop messages
    without a trace, where `noeviction` makes enqueueing fail loudly instead."""
    where = redact_url(url)
    client = aioredis.Redis.from_url(url, socket_connect_timeout=5, decode_responses=True)
    try:
        config = await client.config_get("maxmemory-policy")
    except (RedisError, OSError) as exc:
        raise ConfigError(
            f"cannot read maxmemory-policy from the queue's Redis at {where}: {exc}; "
            f"the queue needs a Redis with maxmemory-policy noeviction"
        ) from exc
    finally:
        await client.aclose()
    policy = config.get("maxmemory-policy")
    if policy != "noeviction":
        raise ConfigError(
            f"the queue's Redis at {where} would evict messages under memory pressure "
            f"(maxmemory-policy={policy}); set noeviction"
        )

"""Queue depth and the oldest message's age per stage, measured when Prometheus scrapes.

A process registers the queues it can see (`watch`): a stage worker its Redis stream, the
embedded platform its in-process broker. The API instances register nothing, so each stage
has one series per worker rather than one per process of the stack.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError, ResponseError

from shared.logs import get_logger

log = get_logger("quarry.queues")
DEPTH = "quarry_queue_depth_messages"
OLDEST = "quarry_queue_oldest_message_age_seconds"
INFLIGHT = "quarry_queue_inflight_messages"
COUNT_CAP = 100_000  # a scrape never reads more entries than this to count a backlog


@dataclass(frozen=True)
class QueueState:
    """One stage's queue: messages not yet acknowledged (waiting or in flight), how many of
    them a worker holds, and the age of the oldest (0 when empty)."""

    stage: str
    depth: int
    inflight: int
    oldest_age_s: float


class QueueSource(Protocol):
    def queue_states(self) -> Sequence[QueueState]: ...


class QueueCollector(Collector):
    """Prometheus collector reading every watched source at scrape time; a source that
    fails is logged and left out of that scrape rather than failing it. Sources are held
    weakly: one whose owner (a platform, a worker) is gone stops being read."""

    def __init__(self) -> None:
        self._sources: list[weakref.ref[QueueSource]] = []
        self._lock = threading.Lock()

    def watch(self, source: QueueSource) -> None:
        with self._lock:
            self._sources = [r for r in self._sources if r() is not None]
            self._sources.append(weakref.ref(source))

    def describe(self) -> Iterable[Any]:
        return list(self._families([]))

    def collect(self) -> Iterable[Any]:
        with self._lock:
            sources = [s for s in (r() for r in self._sources) if s is not None]
        states: list[QueueState] = []
        for source in sources:
            try:
                states.extend(source.queue_states())
            except (RedisError, OSError) as exc:
                log.warning("queue depth not measured: %s", str(exc))  # no traceback kept
        return list(self._families(merge(states)))

    @staticmethod
    def _families(states: Sequence[QueueState]) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            DEPTH, "Stage messages not yet acknowledged (waiting or in flight).", labels=["stage"]
        )
        inflight = GaugeMetricFamily(
            INFLIGHT,
            "Stage messages delivered to a worker and not yet acknowledged.",
            labels=["stage"],
        )
        oldest = GaugeMetricFamily(
            OLDEST,
            "Age of the oldest unacknowledged message of a stage (0 when empty).",
            labels=["stage"],
        )
        for state in states:
            depth.add_metric([state.stage], state.depth)
            inflight.add_metric([state.stage], state.inflight)
            oldest.add_metric([state.stage], state.oldest_age_s)
        yield from (depth, inflight, oldest)


def merge(states: Sequence[QueueState]) -> list[QueueState]:
    """One state per stage: two sources seeing one stage (two platforms in one process) add
    their messages up, and the oldest message is the older of the two."""
    merged: dict[str, QueueState] = {}
    for s in states:
        seen = merged.get(s.stage)
        merged[s.stage] = (
            s
            if seen is None
            else QueueState(
                s.stage,
                seen.depth + s.depth,
                seen.inflight + s.inflight,
                max(seen.oldest_age_s, s.oldest_age_s),
            )
        )
    return [merged[stage] for stage in sorted(merged)]


class MemoryQueueLedger:
    """The in-process broker's queues: messages sent and not yet finished, with send times."""

    def __init__(self) -> None:
        self._sent: dict[str, dict[str, float]] = {}
        self._started: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def declare(self, stage: str) -> None:
        """A stage with a queue, so its gauges read 0 before its first message."""
        with self._lock:
            self._sent.setdefault(stage, {})

    def sent(self, stage: str, message_id: str) -> None:
        with self._lock:
            self._sent.setdefault(stage, {})[message_id] = time.time()
            self._started.setdefault(stage, set()).discard(message_id)

    def started(self, stage: str, message_id: str) -> None:
        with self._lock:
            if message_id in self._sent.get(stage, {}):
                self._started.setdefault(stage, set()).add(message_id)

    def finished(self, stage: str, message_id: str) -> None:
        with self._lock:
            self._sent.get(stage, {}).pop(message_id, None)
            self._started.get(stage, set()).discard(message_id)

    def queue_states(self) -> Sequence[QueueState]:
        now = time.time()
        with self._lock:
            return [
                QueueState(
                    stage,
                    len(sent),
                    len(self._started.get(stage, set())),
                    max(0.0, now - min(sent.values())) if sent else 0.0,
                )
                for stage, sent in sorted(self._sent.items())
            ]


def age_of_id(entry_id: bytes | str, now_ms: float) -> float:
    """Seconds since a Redis stream entry id (`<ms>-<seq>`) was assigned."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return max(0.0, (now_ms - int(text.split("-", 1)[0])) / 1000)


class RedisQueueSource:
    """Stage streams in Redis read by consumer group `stage`: depth is the group's pending
    entries plus those not yet delivered; the oldest is the first pending entry, else the
    first undelivered one. Uses a synchronous client: collectors run on the scrape thread."""

    def __init__(self, url: str, streams: dict[str, str]) -> None:
        self.streams = streams  # stage → stream key
        self.client = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def queue_states(self) -> Sequence[QueueState]:
        return [self._state(stage, key) for stage, key in self.streams.items()]

    def _state(self, stage: str, key: str) -> QueueState:
        now_ms = time.time() * 1000
        try:
            groups: Any = self.client.xinfo_groups(key)
        except ResponseError:  # no stream yet: nothing was ever sent
            return QueueState(stage, 0, 0, 0.0)
        group = next((g for g in groups if _text(g.get("name")) == stage), None)
        if group is None:  # no worker has created its group yet: every entry waits
            first: Any = self.client.xrange(key, count=1)
            total = int(self.client.xlen(key))
            return QueueState(stage, total, 0, age_of_id(first[0][0], now_ms) if first else 0.0)
        pending = int(group.get("pending") or 0)
        last = _text(group.get("last-delivered-id")) or "0-0"
        waiting: Any = self.client.xrange(key, min="(" + last, count=1)
        lag = group.get("lag")
        if lag is None:  # Redis cannot tell after deletions: count the entries after `last`
            after: Any = self.client.xrange(key, min="(" + last, count=COUNT_CAP)
            lag = len(after)
        oldest = 0.0
        if pending:
            summary: Any = self.client.xpending(key, stage)
            oldest = age_of_id(summary["min"], now_ms)
        elif waiting:
            oldest = age_of_id(waiting[0][0], now_ms)
        return QueueState(stage, pending + int(lag), pending, oldest)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")

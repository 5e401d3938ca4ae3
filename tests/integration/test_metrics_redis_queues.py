"""Queue gauges read from a real Redis: depth, in-flight and the oldest message's age of a
stage stream, before any worker, with messages waiting, delivered and acknowledged."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import RedisError

from emulator.stack.services.ports import free_port
from emulator.stack.services.redis import RedisServer
from shared.dispatch.redis import stream_of
from shared.metrics.queues import QueueState, RedisQueueSource


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = RedisServer(tmp_path / "redis", free_port(), "queue")
    server.prepare()
    proc = subprocess.Popen(server.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = Redis.from_url(server.url)
        end = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except RedisError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
        yield server.url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_redis_queue_gauges_follow_a_stage_stream(redis_url: str) -> None:
    source = RedisQueueSource(redis_url, {"extraction": stream_of("extraction")})
    client = Redis.from_url(redis_url)
    key = stream_of("extraction")
    assert source.queue_states() == [QueueState("extraction", 0, 0, 0.0)]  # nothing sent yet
    old_id = f"{int(time.time() * 1000) - 600_000}-0"  # sent 10 min ago
    client.xadd(key, {"data": b"m1"}, id=old_id)
    client.xadd(key, {"data": b"m2"})
    client.xadd(key, {"data": b"m3"})
    (before_group,) = source.queue_states()  # no worker has created its group yet
    assert (before_group.depth, before_group.inflight) == (3, 0)
    assert 599 <= before_group.oldest_age_s < 1200  # not the newest (seconds old)
    client.xgroup_create(key, "extraction", id="0")
    client.xreadgroup("extraction", "w1", {key: ">"}, count=2)  # two in flight, one waiting
    (delivered,) = source.queue_states()
    assert (delivered.depth, delivered.inflight) == (3, 2)
    assert 599 <= delivered.oldest_age_s < 1200  # the oldest is still unacknowledged
    client.xack(key, "extraction", old_id)
    (acked,) = source.queue_states()
    assert (acked.depth, acked.inflight) == (2, 1)
    assert acked.oldest_age_s < 599  # the oldest is now one sent during this test
    client.xreadgroup("extraction", "w1", {key: ">"})
    pending: Any = client.xpending_range(key, "extraction", "-", "+", 10)
    client.xack(key, "extraction", *[entry["message_id"] for entry in pending])
    assert source.queue_states() == [QueueState("extraction", 0, 0, 0.0)]

"""A stage worker's reading of its Redis stream: a batch at a time, as Lambda's event source
mapping hands a function up to `batchSize` messages, and only when an invocation can start
it at once.

A message read is pending with its idle time running, and `reclaim()` takes a message idle
longer than the function's timeout for one whose worker died. So nothing is read ahead of
the free invocations: every message read is in an invocation from that moment, which ends
within the function's timeout, and the whole batch is acknowledged when it has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq.abc.broker import AsyncBroker

from emulator.table import Function
from shared.dispatch.redis import stream_of
from shared.logs import get_logger

log = get_logger("quarry.worker")
INVOCATIONS = 2  # batches a stage worker runs at once; its pool holds a connection for each
READ_BLOCK_MS = 1000
OUTAGE_RETRY_S = 0.5
OUTAGE_RETRY_MAX_S = 2.0
OUTAGES = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, OSError)
Batch = Callable[[list[dict[str, Any]]], Awaitable[None]]


def records_of(broker: AsyncBroker, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[Any]:
    """Each stream entry's record (a Taskiq message carrying one), or None if unreadable."""
    out: list[Any] = []
    for msg_id, fields in entries:
        try:
            out.append(broker.formatter.loads(message=fields[b"data"]).args[0])
        except Exception as exc:  # an unreadable entry can only be dropped, loudly
            log.error("dropping unreadable message %s: %s", msg_id, exc)
            out.append(None)
    return out


class Consumer:
    """Reads `fn`'s stream as `consumer` and runs `batch` on what it reads."""

    def __init__(
        self,
        redis: Redis,
        broker: AsyncBroker,
        fn: Function,
        consumer: str,
        batch: Batch,
        invocations: int = INVOCATIONS,
    ) -> None:
        self.redis, self.broker, self.fn, self.consumer = redis, broker, fn, consumer
        self.batch = batch
        self.slots = asyncio.Semaphore(invocations)
        self.running: set[asyncio.Task[None]] = set()

    async def run(self, finish: asyncio.Event) -> None:
        """Read and invoke until `finish` is set, then let the invocations in flight end
        (up to the function's timeout); unread messages stay in the stream."""
        pause = OUTAGE_RETRY_S
        while not finish.is_set():
            await self.slots.acquire()
            try:
                entries = await self._read()
                pause = OUTAGE_RETRY_S
            except OUTAGES as exc:
                self.slots.release()
                log.warning("the queue is unreachable; reading again in %.1f s: %s", pause, exc)
                await asyncio.sleep(pause)
                pause = min(OUTAGE_RETRY_MAX_S, pause * 2)
                continue
            if not entries:
                self.slots.release()
                continue
            task = asyncio.create_task(self._invoke(entries))
            self.running.add(task)
            task.add_done_callback(self.running.discard)
        if self.running:
            await asyncio.wait(set(self.running), timeout=self.fn.timeout)

    async def _read(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        reply: Any = await self.redis.xreadgroup(
            self.fn.name,
            self.consumer,
            {stream_of(self.fn.name): ">"},
            count=self.fn.batch_size,
            block=READ_BLOCK_MS,
        )
        return [entry for _, entries in reply or [] for entry in entries]

    async def _invoke(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        try:
            records = records_of(self.broker, entries)
            readable = [r for r in records if r is not None]
            if readable:
                await self.batch(readable)
            await self._ack([msg_id for msg_id, _ in entries])
        except Exception:  # unacknowledged, the batch is reclaimed after the timeout
            log.exception("a batch of %s ended without acknowledgement", self.fn.name)
        finally:
            self.slots.release()

    async def _ack(self, ids: list[bytes]) -> None:
        """Acknowledge after the batch settled, riding out a queue outage: an entry left
        unacknowledged would be reclaimed and delivered again (harmless, but not needed)."""
        pause = OUTAGE_RETRY_S
        while True:
            try:
                await self.redis.xack(stream_of(self.fn.name), self.fn.name, *ids)
                return
            except OUTAGES as exc:
                log.warning("acknowledgement waits for the queue: %s", exc)
                await asyncio.sleep(pause)
                pause = min(OUTAGE_RETRY_MAX_S, pause * 2)

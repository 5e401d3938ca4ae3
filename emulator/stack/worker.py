"""A stage worker of the stack: reads its stage's Redis stream a batch at a time
(`emulator.stack.consumer`), acknowledges after commit, reclaims messages a crashed worker
left unacknowledged, and rides out outages of the queue and the database without losing a
message or spending its attempts.
Run as `python -m emulator.stack.worker STAGE METRICS_PORT [TABLE]`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from taskiq_redis import RedisStreamBroker

from emulator.stack.consumer import INVOCATIONS, Consumer
from emulator.stack.profiling import profiled
from emulator.table import Function, load_handler, load_table
from emulator.tasks import stage_task
from shared import deadletters, metrics, ports
from shared.composition import build_runtime
from shared.config_load import load_settings
from shared.db.routing import unpositioned_scope
from shared.dispatch.redis import RedisDispatcher, stream_of
from shared.dispatch.taskiq import TaskFn
from shared.errors import ConfigError
from shared.handlers import memory
from shared.handlers.delivery import next_delivery
from shared.handlers.invocation import declare_memory
from shared.lambda_events.sqs import receive_count
from shared.logs import configure_logging, get_logger
from shared.metering.ledger import flushing
from shared.metrics.queues import RedisQueueSource
from shared.outages import as_unavailable
from shared.ports import Database

log = get_logger("quarry.worker")
RECLAIM_MARGIN_S = 5.0
RECLAIM_EVERY_S = 2.0
OUTAGE_RETRY_S = 0.5  # first pause while the queue or the database is unreachable; doubles
OUTAGE_RETRY_MAX_S = 2.0


def stream_broker(url: str, stage: str, consumer: str) -> RedisStreamBroker:
    """The stage's stream as Taskiq knows it: its start-up declares the consumer group from
    the stream's beginning (messages sent before the first worker are not missed), and its
    formatter reads entries. Reading is the consumer's, reclaiming ours (see `reclaim`)."""
    return RedisStreamBroker(
        url,
        queue_name=stream_of(stage),
        consumer_group_name=stage,
        consumer_name=consumer,
        consumer_id="0",
        idle_timeout=86_400_000,
    )


async def wait_for_database(db: Database) -> None:
    """Return once the primary answers: a message attempted while it is down would fail for
    no fault of its own and spend one of its attempts."""
    pause = OUTAGE_RETRY_S
    while True:
        try:
            async with db.writer() as session:
                await session.execute(text("SELECT 1"))
            return
        except (DBAPIError, PoolTimeoutError, OSError) as exc:
            log.warning("the database is unreachable; holding messages: %s", type(exc).__name__)
            await asyncio.sleep(pause)
            pause = min(OUTAGE_RETRY_MAX_S, pause * 2)


def held(task: TaskFn, db: Database) -> TaskFn:
    """The task, holding its message through an outage. Taskiq acknowledges a message once
    its task returns, even when it raised: a delivery whose outcome (the stage's commit, the
    retry's resend, the dead letter) could not be recorded because Redis or Postgres was
    down would be lost. Instead the delivery is made again, as the same attempt, once both
    answer; stage writes are idempotent, so an attempt that did commit is recognised."""

    async def task_held(records: list[dict[str, Any]]) -> None:
        with unpositioned_scope():  # no token leaves a worker: its commits need no position
            await held_once(records)

    async def held_once(records: list[dict[str, Any]]) -> None:
        pause = OUTAGE_RETRY_S
        while True:
            await wait_for_database(db)
            try:
                await task(records)
                return
            except Exception as exc:  # the worker is the boundary: only an outage is held
                if as_unavailable(exc) is None:
                    raise
                log.warning(
                    "delivery not settled, the queue or database is unreachable; again in %.1f s",
                    pause,
                    extra={"error": f"{type(exc).__name__}: {exc}"},
                )
                await asyncio.sleep(pause)
                pause = min(OUTAGE_RETRY_MAX_S, pause * 2)

    task_held.__name__ = task_held.__qualname__ = getattr(task, "__name__", "task")
    return task_held


async def reclaim(
    redis: Redis,
    broker: RedisStreamBroker,
    fn: Function,
    consumer: str,
    dispatcher: RedisDispatcher,
) -> int:
    """Take over messages idle longer than the function's timeout plus a margin (their
    worker died mid-task) and deliver them again as their next attempt."""
    min_idle = int((fn.timeout + RECLAIM_MARGIN_S) * 1000)
    reply: Any = await redis.xautoclaim(
        stream_of(fn.name), fn.name, consumer, min_idle, start_id="0-0", count=50
    )
    claimed = reply[1]
    for msg_id, fields in claimed:
        try:
            record = broker.formatter.loads(message=fields[b"data"]).args[0]
        except Exception as exc:  # an unreadable message can only be dropped, loudly
            log.error("dropping unreadable message %s: %s", msg_id, exc)
            await redis.xack(stream_of(fn.name), fn.name, msg_id)
            continue
        if receive_count(record) >= fn.max_receive:
            await deadletters.bury(
                ports.current(),
                fn.name,
                record,
                "worker died during the last attempt",
                receive_count(record),
            )
        else:
            await dispatcher.resend(fn.name, next_delivery(record))
        await redis.xack(stream_of(fn.name), fn.name, msg_id)
        log.warning("reclaimed a message its worker left unfinished", extra={"stage": fn.name})
    return len(claimed)


async def reclaim_loop(
    redis: Redis,
    broker: RedisStreamBroker,
    fn: Function,
    consumer: str,
    dispatcher: RedisDispatcher,
) -> None:
    """Reclaim every few seconds; never while the database is down, when messages are idle
    because live workers hold them (see `held()`), not because their worker died."""
    while True:
        await asyncio.sleep(RECLAIM_EVERY_S)
        try:
            await wait_for_database(ports.current().db)
            await reclaim(redis, broker, fn, consumer, dispatcher)
        except Exception as exc:  # the loop must outlive any one round
            if as_unavailable(exc) is None:
                log.exception("reclaim failed; trying again next round")
            else:
                log.warning("reclaim skipped, the queue or database is unreachable: %s", exc)


async def work(stage: str, metrics_port: int, table_path: Path) -> None:
    settings = load_settings(os.environ, Path("quarry.toml"))
    configure_logging(settings.log_level)
    table = load_table(table_path)
    fn = table.functions[stage]
    handler, _ = load_handler(fn)
    declare_memory(fn.name, fn.memory, fn.architecture)
    # Series at 0 from the start: increase() over a series born at 1 is 0, so an alert on the
    # first dead letter (or retry) after a worker starts would never fire.
    metrics.RETRIES.labels(stage)
    metrics.DEAD_LETTERS.labels(stage)
    # one connection per invocation at a time, and one for the reclaimer and the outage checks
    stages = [f.name for f in table.stages()]
    runtime = build_runtime(settings, stages=stages, pool_size=INVOCATIONS + 1)
    dispatcher = runtime.dispatcher
    if not isinstance(dispatcher, RedisDispatcher) or settings.redis_url is None:
        raise ConfigError(
            "a stack worker reads Redis Streams: QUARRY_QUEUE=redis, QUARRY_REDIS_URL"
        )
    ports.install(runtime)
    consumer = f"{stage}-{socket.gethostname()}-{os.getpid()}"
    broker = stream_broker(settings.redis_url, stage, consumer)
    task = memory.limited(held(stage_task(handler, fn, dispatcher.resend), runtime.db), fn.memory)
    await runtime.start()
    await broker.startup()
    queue_gauges = RedisQueueSource(settings.redis_url, {stage: stream_of(stage)})
    metrics.QUEUES.watch(queue_gauges)  # depth and oldest age of this stage, at scrape time
    start_http_server(metrics_port, addr=settings.bind_host)
    finish = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, finish.set)
    redis = Redis.from_url(settings.redis_url)
    reader = Consumer(redis, broker, fn, consumer, task)
    reclaimer = asyncio.create_task(reclaim_loop(redis, broker, fn, consumer, dispatcher))
    log.info("worker ready", extra={"stage": stage, "metrics_port": metrics_port})
    try:
        # profiled (with BENCH_PROFILE_DIR set) from here: the steady state, not the start-up
        with profiled(stage):
            async with flushing(runtime.db):  # the invocation ledger, written every second
                await reader.run(finish)  # on SIGTERM: stop reading, finish in-flight work
    finally:
        reclaimer.cancel()
        await asyncio.gather(reclaimer, return_exceptions=True)
        await broker.shutdown()
        await redis.aclose()
        await runtime.close()


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m emulator.stack.worker STAGE METRICS_PORT [TABLE]")
    table = Path(argv[2]) if len(argv) > 2 else Path("serverless.yml")
    asyncio.run(work(argv[0], int(argv[1]), table))


if __name__ == "__main__":
    main(sys.argv[1:])

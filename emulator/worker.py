"""A stage worker of the stack: reads its stage's Redis stream with Taskiq, acknowledges
after commit, and reclaims messages a crashed worker left unacknowledged.
Run as `python -m emulator.worker STAGE METRICS_PORT [TABLE]`."""

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
from redis.exceptions import RedisError
from taskiq.receiver import Receiver
from taskiq_redis import RedisStreamBroker

from emulator.stack.runtime import stack_runtime
from emulator.table import Function, load_handler, load_table
from emulator.tasks import stage_task
from shared import deadletters, metrics
from shared.config import load_settings
from shared.dispatch.redis import RedisDispatcher, stage_broker, stream_of
from shared.logs import configure_logging, get_logger
from shared.observability.queues import RedisQueueSource
from shared.runtime import deps, memory
from shared.runtime.delivery import next_delivery, receive_count
from shared.runtime.invocation import declare_memory

log = get_logger("quarry.worker")
RECLAIM_MARGIN_S = 5.0
RECLAIM_EVERY_S = 2.0


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
                deps.current(),
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


async def reclaim_loop(*args: Any) -> None:
    while True:
        await asyncio.sleep(RECLAIM_EVERY_S)
        try:
            await reclaim(*args)
        except RedisError as exc:
            log.warning("reclaim skipped, the queue is unreachable: %s", exc)


async def work(stage: str, metrics_port: int, table_path: Path) -> None:
    settings = load_settings(os.environ, Path("quarry.toml"))
    configure_logging(settings.log_level)
    table = load_table(table_path)
    fn = table.functions[stage]
    handler, _ = load_handler(fn)
    declare_memory(fn.name, fn.memory)
    runtime, dispatcher = stack_runtime(settings, table)
    deps.install(runtime)
    assert settings.redis_url is not None
    consumer = f"{stage}-{socket.gethostname()}-{os.getpid()}"
    broker = stage_broker(settings.redis_url, stage, consumer=consumer, idle_ms=86_400_000)
    task = stage_task(handler, fn, dispatcher.resend)
    broker.register_task(memory.limited(task, fn.memory), task_name=stage)
    await dispatcher.broker.startup()
    queue_gauges = RedisQueueSource(settings.redis_url, {stage: stream_of(stage)})
    metrics.QUEUES.watch(queue_gauges)  # depth and oldest age of this stage, at scrape time
    start_http_server(metrics_port, addr=settings.bind_host)
    finish = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, finish.set)
    redis = Redis.from_url(settings.redis_url)
    receiver = Receiver(
        broker, max_async_tasks=8, propagate_exceptions=False, wait_tasks_timeout=fn.timeout
    )
    reclaimer = asyncio.create_task(reclaim_loop(redis, broker, fn, consumer, dispatcher))
    log.info("worker ready", extra={"stage": stage, "metrics_port": metrics_port})
    try:
        await receiver.listen(finish)  # on SIGTERM: stop reading, finish in-flight work
    finally:
        reclaimer.cancel()
        await asyncio.gather(reclaimer, return_exceptions=True)
        await broker.shutdown()
        await dispatcher.broker.shutdown()
        await redis.aclose()
        await runtime.db.dispose()


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m emulator.worker STAGE METRICS_PORT [TABLE]")
    table = Path(argv[2]) if len(argv) > 2 else Path("serverless.yml")
    asyncio.run(work(argv[0], int(argv[1]), table))


if __name__ == "__main__":
    main(sys.argv[1:])

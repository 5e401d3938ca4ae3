"""A stage worker of `quarry up --aws`: Lambda's SQS event source mapping for one stage, as a
process. Polls the stage's queue, invokes the handler with SQS batch events, deletes what
succeeded; failed items return to the queue and, after maxReceiveCount receives, SQS moves
them to the dead-letter queue. Run as `python -m emulator.aws.worker STAGE METRICS_PORT [TABLE]`."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server

from emulator.artefacts.template import ACCOUNT
from emulator.aws.poller import Handler, SqsPoller
from emulator.execution.client import RemoteHandler
from emulator.execution.client import endpoint as lambda_endpoint
from emulator.table import load_handler, load_table
from shared import ports
from shared.aws import client
from shared.composition import build_runtime
from shared.config_load import load_settings
from shared.dispatch.sqs import SqsDispatcher
from shared.handlers.invocation import declare_memory
from shared.handlers.memory import OUT_OF_MEMORY_EXIT, current_rss_mb, over_limit
from shared.logs import configure_logging, get_logger
from shared.metering.ledger import flushing

log = get_logger("quarry.worker")


def limited(handler: Handler, memory_size_mb: int) -> Handler:
    """`handler`, checked after each batch against memorySize: over it, the process logs
    Lambda's error and exits before the batch is settled, so SQS delivers it again once its
    visibility timeout passes (as after a Lambda environment killed for memory)."""

    def checked(event: dict[str, Any], context: Any) -> Any:
        result = handler(event, context)
        error = over_limit(current_rss_mb(), memory_size_mb)
        if error is not None:
            log.error(error, extra={"memory_size_mb": memory_size_mb})
            logging.shutdown()  # flush, since os._exit skips every handler and finaliser
            os._exit(OUT_OF_MEMORY_EXIT)
        return result

    return checked


def queue_url(endpoint: str, name: str) -> str:
    """The URL of queue `name` in the local AWS, as an event source mapping knows it from the
    queue's ARN: no GetQueueUrl call, which the function's role need not allow."""
    return f"http://{endpoint}/{ACCOUNT}/{name}"


async def _poll(poller: SqsPoller, metrics_port: int, bind_host: str, stage: str) -> None:
    start_http_server(metrics_port, addr=bind_host)
    finish = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, finish.set)
    log.info("sqs worker ready", extra={"stage": stage, "metrics_port": metrics_port})
    await poller.run(finish)  # on SIGTERM: the batch in hand finishes, then it stops


async def work(stage: str, metrics_port: int, table_path: Path) -> None:
    settings = load_settings(os.environ, Path("quarry.toml"))
    configure_logging(settings.log_level)
    table = load_table(table_path)
    fn = table.functions[stage]
    url = lambda_endpoint()
    if url is not None and settings.aws_endpoint:
        # The function runs in execution environments: this process is only its event
        # source mapping, polling with the function's role (AWS_PROFILE) as Lambda's does.
        sqs = client("sqs", settings.aws_endpoint)
        name = settings.sqs_queue_prefix + stage
        remote = RemoteHandler(url, fn.name, "sqs", fn.timeout)
        poller = await asyncio.to_thread(
            SqsPoller,
            sqs,
            fn,
            remote,
            queue_url(settings.aws_endpoint, name),
            wait_s=1,
            retry_delay_s=settings.retry_backoff_s,
        )
        await _poll(poller, metrics_port, settings.bind_host, stage)
        return
    handler, _ = load_handler(fn)
    declare_memory(fn.name, fn.memory, fn.architecture)
    runtime = build_runtime(settings)
    ports.install(runtime)
    assert isinstance(runtime.dispatcher, SqsDispatcher)
    poller = SqsPoller(
        runtime.dispatcher.client,
        fn,
        limited(handler, fn.memory),
        await asyncio.to_thread(runtime.dispatcher.queue_url, stage),
        wait_s=1,
        retry_delay_s=settings.retry_backoff_s,
    )
    try:
        async with flushing(runtime.db):  # the invocation ledger, written every second
            await _poll(poller, metrics_port, settings.bind_host, stage)
    finally:
        await runtime.close()


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m emulator.aws.worker STAGE METRICS_PORT [TABLE]")
    table = Path(argv[2]) if len(argv) > 2 else Path("serverless.yml")
    asyncio.run(work(argv[0], int(argv[1]), table))


if __name__ == "__main__":
    main(sys.argv[1:])

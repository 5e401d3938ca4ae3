"""An SQS event source mapping run locally: receive up to a batch of messages from a stage's
queue, invoke the stage handler with the SQS event Lambda would send, delete what succeeded,
and return the items it reports as failed to the queue, whose redrive policy moves a message
to the dead-letter queue after `maxReceiveCount` receives."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.table import Function
from shared.handlers.context import LambdaContext
from shared.lambda_events import sqs
from shared.logs import get_logger

log = get_logger("quarry.sqs")
RECEIVE_MAX = 10  # messages per ReceiveMessage call
REGION = "us-east-1"
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class Polled:
    received: int
    failed: int


class SqsPoller:
    """Polls one stage's queue and invokes its handler, as Lambda's event source mapping."""

    def __init__(
        self,
        sqs: Any,
        fn: Function,
        handler: Handler,
        queue_url: str,
        *,
        wait_s: int = 1,
        retry_delay_s: float = 0.5,
        idle_s: float = 0.0,
    ) -> None:
        self.sqs = sqs
        self.fn = fn
        self.handler = handler
        self.queue_url = queue_url
        self.wait_s = wait_s
        self.retry_delay_s = retry_delay_s
        self.idle_s = idle_s  # pause after an empty receive (with wait_s=0, so as not to spin)
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.arn = str(attrs["Attributes"]["QueueArn"])

    def _receive(self) -> list[dict[str, Any]]:
        reply = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.fn.batch_size, RECEIVE_MAX),
            WaitTimeSeconds=self.wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(reply.get("Messages") or [])

    def _settle(self, records: list[dict[str, Any]], failed: set[str]) -> None:
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), RECEIVE_MAX):
            chunk = done[start : start + RECEIVE_MAX]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)
                ],
            )
        retry = [r for r in records if r["messageId"] in failed]
        for start in range(0, len(retry), RECEIVE_MAX):
            chunk = retry[start : start + RECEIVE_MAX]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(i),
                        "ReceiptHandle": r["receiptHandle"],
                        "VisibilityTimeout": self._delay(r),
                    }
                    for i, r in enumerate(chunk)
                ],
            )

    def _delay(self, record: dict[str, Any]) -> int:
        """Seconds before a failed message is received again: locally a doubling backoff
        instead of the queue's full visibility timeout, so retries come within the run."""
        count = sqs.receive_count(record)
        return int(min(math.ceil(self.retry_delay_s * 2 ** (count - 1)), 900))

    async def poll_once(self) -> Polled:
        """Receive one batch (waiting up to `wait_s`), invoke the handler, settle the batch."""
        messages = await asyncio.to_thread(self._receive)
        if not messages:
            return Polled(0, 0)
        records = [sqs.from_received(m, self.arn, REGION) for m in messages]
        context = LambdaContext(
            self.fn.name, timeout_s=self.fn.timeout, memory_limit_in_mb=self.fn.memory
        )
        try:
            result = await asyncio.to_thread(self.handler, sqs.event(records), context)
        except Exception:  # the invocation failed: Lambda retries the whole batch
            log.exception("stage invocation failed", extra={"stage": self.fn.name})
            result = sqs.batch_response(r["messageId"] for r in records)
        failed = sqs.failed_ids(result, records)
        await asyncio.to_thread(self._settle, records, failed)
        return Polled(len(records), len(failed))

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; an unreachable emulator is logged and retried."""
        while not stop.is_set():
            try:
                polled = await self.poll_once()
                if not polled.received and self.idle_s:
                    await asyncio.sleep(self.idle_s)
            except Exception as exc:  # botocore's errors: keep polling, as Lambda does
                log.warning("polling %s failed: %s", self.fn.name, exc)
                await asyncio.sleep(1)

"""SQS dispatch: each stage's messages go to its queue (`sqs_queue_prefix` + stage), in
batches of ten, with the request id that caused them as a message attribute. boto3 is
called on a worker thread, so sends never block the event loop."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from typing import Any

from shared.dispatch import REQUEST_ID_ATTRIBUTE
from shared.errors import ConfigError, UnavailableError
from shared.logs import request_id_var

BATCH_MAX = 10  # SendMessageBatch entries per call


class SqsDispatcher:
    """Sends stage messages to SQS queues named `prefix + stage`; queue URLs are looked up
    once each (GetQueueUrl) and kept."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def queue_url(self, stage: str) -> str:
        """The URL of the stage's queue; ConfigError when it does not exist."""
        with self._lock:
            url = self._urls.get(stage)
        if url is not None:
            return url
        name = self.prefix + stage
        try:
            url = str(self.client.get_queue_url(QueueName=name)["QueueUrl"])
        except Exception as exc:  # botocore's errors are not importable without boto3
            if "NonExistentQueue" in type(exc).__name__ or "NonExistentQueue" in str(exc):
                raise ConfigError(f"SQS queue {name!r} of stage {stage!r} does not exist") from exc
            raise UnavailableError(f"SQS is unreachable: {exc}") from exc
        with self._lock:
            self._urls[stage] = url
        return url

    def send_now(self, stage: str, bodies: Sequence[dict[str, Any]]) -> None:
        """Send synchronously; every message is accepted or UnavailableError says which not."""
        if not bodies:
            return
        url = self.queue_url(stage)
        attributes = _attributes(request_id_var.get())
        for start in range(0, len(bodies), BATCH_MAX):
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(body, separators=(",", ":")),
                    "MessageAttributes": attributes,
                }
                for i, body in enumerate(bodies[start : start + BATCH_MAX])
            ]
            try:
                reply = self.client.send_message_batch(QueueUrl=url, Entries=entries)
            except Exception as exc:
                raise UnavailableError(f"SQS refused messages for {stage!r}: {exc}") from exc
            failed = reply.get("Failed") or []
            if failed:
                reasons = "; ".join(f"{f.get('Code')}: {f.get('Message', '')}" for f in failed)
                raise UnavailableError(
                    f"SQS did not accept {len(failed)} message(s) for {stage!r}: {reasons}"
                )

    async def send(self, stage: str, bodies: Sequence[dict[str, Any]]) -> None:
        await asyncio.to_thread(self.send_now, stage, list(bodies))


def _attributes(request_id: str | None) -> dict[str, Any]:
    if not request_id:
        return {}
    return {REQUEST_ID_ATTRIBUTE: {"DataType": "String", "StringValue": request_id}}

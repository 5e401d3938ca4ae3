"""SQS dispatch: each stage's messages go to its queue (`sqs_queue_prefix` + stage), in
batches of ten, with the request id that caused them as a message attribute. boto3 is
called on a worker thread, so sends never block the event loop."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from collections.abc import Sequence
from typing import Any

from shared.errors import AccessDeniedError, ConfigError, UnavailableError
from shared.lambda_events.sqs import REQUEST_ID_ATTRIBUTE
from shared.logs import function_var, get_logger, request_id_var

log = get_logger("quarry.sqs")

BATCH_MAX = 10  # SendMessageBatch entries per call
_CALLER = re.compile(r"arn:aws:(?:sts|iam)::(\d{12}):")  # in AccessDenied's message
DEAD_LETTER_SUFFIX = "-dlq"  # serverless.yml names a stage's dead-letter queue so


class SqsDispatcher:
    """Sends stage messages to SQS queues named `prefix + stage`; queue URLs are looked up
    once each (GetQueueUrl) and kept."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def queue_url(self, stage: str, suffix: str = "") -> str:
        """The URL of the stage's queue (`suffix` "-dlq": its dead-letter queue); ConfigError
        when it does not exist."""
        key = stage + suffix
        with self._lock:
            url = self._urls.get(key)
        if url is not None:
            return url
        name = self.prefix + key
        try:
            url = str(self.client.get_queue_url(QueueName=name)["QueueUrl"])
        except Exception as exc:  # botocore's errors are not importable without boto3
            if "NonExistentQueue" in type(exc).__name__ or "NonExistentQueue" in str(exc):
                raise ConfigError(f"SQS queue {name!r} of stage {stage!r} does not exist") from exc
            if is_access_denied(exc):
                raise self._denied(exc, "sqs:GetQueueUrl", name) from exc
            raise UnavailableError(f"SQS is unreachable: {exc}") from exc
        with self._lock:
            self._urls[key] = url
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
                if is_access_denied(exc):
                    raise self._denied(exc, "sqs:SendMessage", url) from exc
                raise UnavailableError(f"SQS refused messages for {stage!r}: {exc}") from exc
            failed = reply.get("Failed") or []
            if failed:
                reasons = "; ".join(f"{f.get('Code')}: {f.get('Message', '')}" for f in failed)
                raise UnavailableError(
                    f"SQS did not accept {len(failed)} message(s) for {stage!r}: {reasons}"
                )

    def _denied(self, exc: Exception, action: str, queue: str) -> AccessDeniedError:
        """The role may not `action` on the queue (a URL or a name): logged once here, naming
        the function (AWS_LAMBDA_FUNCTION_NAME in Lambda), the action and the queue's ARN."""
        region = str(getattr(getattr(self.client, "meta", None), "region_name", "") or "")
        caller = _CALLER.search(str(exc))  # the queue is the caller's account's
        arn = queue_arn(queue, region, caller.group(1) if caller else "*")
        error = AccessDeniedError(f"AccessDenied: {function_name()} may not {action} on {arn}")
        log.error(error.detail, extra={"action": action, "resource": arn})
        return error

    async def send(self, stage: str, bodies: Sequence[dict[str, Any]]) -> None:
        await asyncio.to_thread(self.send_now, stage, list(bodies))

    def _take(self, stage: str) -> list[dict[str, Any]]:
        reply = self.client.receive_message(
            QueueUrl=self.queue_url(stage, DEAD_LETTER_SUFFIX),
            MaxNumberOfMessages=BATCH_MAX,
            AttributeNames=["All"],
        )
        return [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes") or {}),
            }
            for m in reply.get("Messages") or []
        ]

    async def take_dead_letters(self, stage: str) -> list[dict[str, Any]]:
        """Up to ten messages of the stage's dead-letter queue, as SQS records. They stay in
        the queue (invisible for its visibility timeout) until `forget_dead_letters`, so one
        is deleted only once it is kept elsewhere."""
        return await asyncio.to_thread(self._take, stage)

    def _forget(self, stage: str, records: Sequence[dict[str, Any]]) -> None:
        if records:
            self.client.delete_message_batch(
                QueueUrl=self.queue_url(stage, DEAD_LETTER_SUFFIX),
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                    for i, r in enumerate(records)
                ],
            )

    async def forget_dead_letters(self, stage: str, records: Sequence[dict[str, Any]]) -> None:
        """Delete records taken from the stage's dead-letter queue."""
        await asyncio.to_thread(self._forget, stage, list(records))


def _attributes(request_id: str | None) -> dict[str, Any]:
    if not request_id:
        return {}
    return {REQUEST_ID_ATTRIBUTE: {"DataType": "String", "StringValue": request_id}}


def is_access_denied(exc: BaseException) -> bool:
    """botocore's ClientError for a call the caller's policies do not allow."""
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("AccessDenied", "AccessDeniedException") or "AccessDenied" in str(exc)


def queue_arn(queue: str, region: str, account: str = "*") -> str:
    """`http://host/ACCOUNT/NAME` (or a bare name, in `account`) as
    arn:aws:sqs:REGION:ACCOUNT:NAME."""
    parts = queue.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2].isdigit():
        account = parts[-2]
    return f"arn:aws:sqs:{region or '*'}:{account}:{parts[-1]}"


def function_name() -> str:
    """The function making the call: Lambda names it in AWS_LAMBDA_FUNCTION_NAME."""
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or function_var.get() or "this process"

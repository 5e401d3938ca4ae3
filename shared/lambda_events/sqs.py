"""SQS as Lambda sees it: the records of a batch event, the partial batch response, and the
request id a message carries as a message attribute."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.lambda_events.arns import LOCAL_ACCOUNT, REGION, arn

REQUEST_ID_ATTRIBUTE = "request_id"


def queue_arn(queue: str, *, account: str = LOCAL_ACCOUNT) -> str:
    return arn("sqs", queue, account=account)


def record(
    body: str,
    *,
    arn: str,
    receive_count: int = 1,
    attributes: Mapping[str, Any] | None = None,
    sender: str = "AROAQUARRYLOCAL",
    now: datetime | None = None,
    region: str = REGION,
) -> dict[str, Any]:
    """One record of an SQS event, carrying `body` as sent (a stage message's JSON)."""
    millis = str(int((now or datetime.now(UTC)).timestamp() * 1000))
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": base64.b64encode(uuid.uuid4().bytes * 4).decode(),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": millis,
            "SenderId": sender,
            "ApproximateFirstReceiveTimestamp": millis,
        },
        "messageAttributes": dict(attributes or {}),
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def message_record(
    stage: str, message: dict[str, Any], receive_count: int = 1, request_id: str | None = None
) -> dict[str, Any]:
    """A stage message as the record its stage receives, with the request id that caused it."""
    return record(
        json.dumps(message, separators=(",", ":")),
        arn=queue_arn(f"quarry-{stage}"),
        receive_count=receive_count,
        attributes=request_id_attribute(request_id),
    )


def from_received(message: Mapping[str, Any], arn: str, region: str = REGION) -> dict[str, Any]:
    """A message of SQS's ReceiveMessage answer as a record of Lambda's SQS event."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType", "String"),
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The batch event an event source mapping invokes a function with."""
    return {"Records": list(records)}


def records_of(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(event.get("Records") or [])


def receive_count(record: Mapping[str, Any]) -> int:
    """How many times this message has been received, this time included (at least 1)."""
    try:
        return max(1, int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1)))
    except (TypeError, ValueError):
        return 1


def batch_response(failed_message_ids: Iterable[str]) -> dict[str, Any]:
    """A partial batch response: the records to receive again (ReportBatchItemFailures)."""
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed_message_ids]}


def failed_ids(result: Any, records: list[dict[str, Any]]) -> set[str]:
    """The message ids a handler's partial batch response names; the whole batch when the
    response is malformed or names an id not in the batch (Lambda treats both as failure)."""
    every = {r["messageId"] for r in records}
    if not isinstance(result, dict) or "batchItemFailures" not in result:
        return set() if result is None or isinstance(result, dict) else every
    items = result["batchItemFailures"]
    if not isinstance(items, list):
        return every
    ids = {str(i.get("itemIdentifier", "")) if isinstance(i, dict) else "" for i in items}
    return every if not ids <= every else ids


def request_id_attribute(request_id: str | None) -> dict[str, Any]:
    """SQS message attributes carrying the request id that caused a message, so the stage
    that receives it logs under the same id (empty when there is none)."""
    if not request_id:
        return {}
    return {
        REQUEST_ID_ATTRIBUTE: {
            "stringValue": request_id,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }


def request_id_of_record(record: Mapping[str, Any]) -> str | None:
    """The request id an SQS record carries in its message attributes, if well formed."""
    attributes = record.get("messageAttributes")
    if not isinstance(attributes, dict):
        return None
    entry = attributes.get(REQUEST_ID_ATTRIBUTE)
    value = entry.get("stringValue") if isinstance(entry, dict) else None
    if isinstance(value, str) and 0 < len(value) <= 128 and value.isprintable():
        return value
    return None

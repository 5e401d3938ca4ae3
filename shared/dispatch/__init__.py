"""The dispatch port: send a stage's messages to the next stage's queue."""

from __future__ import annotations

from typing import Any

REQUEST_ID_ATTRIBUTE = "request_id"


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


def request_id_of_record(record: dict[str, Any]) -> str | None:
    """The request id an SQS-shaped record carries in its message attributes, if well formed."""
    attributes = record.get("messageAttributes")
    if not isinstance(attributes, dict):
        return None
    entry = attributes.get(REQUEST_ID_ATTRIBUTE)
    value = entry.get("stringValue") if isinstance(entry, dict) else None
    if isinstance(value, str) and 0 < len(value) <= 128 and value.isprintable():
        return value
    return None

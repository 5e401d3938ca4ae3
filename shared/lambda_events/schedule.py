"""EventBridge's "Scheduled Event", as it invokes a Lambda target."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.lambda_events.arns import EXAMPLE_ACCOUNT, REGION, arn


def rule_arn(rule: str, *, account: str = EXAMPLE_ACCOUNT) -> str:
    """The ARN of the EventBridge rule named `rule`."""
    return arn("events", f"rule/{rule}", account=account)


def scheduled_event(
    rule_arn: str,
    time: datetime,
    *,
    account: str = EXAMPLE_ACCOUNT,
    region: str = REGION,
    event_id: str | None = None,
) -> dict[str, Any]:
    """The event EventBridge sends a target of the rule `rule_arn` at `time` (timezone-aware),
    so handlers need no local mode."""
    if time.tzinfo is None or time.utcoffset() is None:
        raise ValueError(f"schedule times must be timezone-aware, got naive {time.isoformat()}")
    return {
        "version": "0",
        "id": event_id if event_id is not None else str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def is_scheduled_event(event: Any) -> bool:
    """Whether `event` is EventBridge's scheduled event (not a batch or a request)."""
    return isinstance(event, dict) and event.get("source") == "aws.events"

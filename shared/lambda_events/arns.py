"""The accounts, region and resource names (ARNs) that events built locally carry."""

from __future__ import annotations

REGION = "us-east-1"
LOCAL_ACCOUNT = "000000000000"  # the emulator's own events
EXAMPLE_ACCOUNT = "123456789012"  # AWS's documentation account: sample events, schedules


def arn(service: str, resource: str, *, account: str, region: str = REGION) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"

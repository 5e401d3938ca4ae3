"""AWS clients for the SQS and SSM ports. boto3 is imported on first use, never at import
time: processes that never talk to AWS do not pay for it, and a local AWS emulator (moto,
LocalStack) is reached through localstack-client when `aws_endpoint` is set."""

from __future__ import annotations

import os
from typing import Any, Literal

from shared.errors import ConfigError

Service = Literal["sqs", "ssm"]
LOCAL_REGION = "us-east-1"


def client(service: Service, endpoint: str | None = None) -> Any:
    """A boto3 client for `service`: AWS itself (region and credentials from the Lambda
    environment), or the local emulator at `endpoint` (`host:port`) with dummy credentials."""
    if endpoint:
        from localstack_client.session import Session  # type: ignore[import-untyped]

        return Session(localstack_host=endpoint, region_name=LOCAL_REGION).client(service)
    import boto3

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError(f"no AWS region for {service}: set AWS_REGION (Lambda sets it)")
    return boto3.client(service, region_name=region)

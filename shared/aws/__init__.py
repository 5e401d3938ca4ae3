"""AWS clients for the SQS and SSM ports. boto3 is imported on first use, never at import
time: processes that never talk to AWS do not pay for it. With `aws_endpoint` set, the client
talks to a local AWS emulator (moto, LocalStack) instead, signing with the credentials the
environment gives (a Lambda role's keys, or an AWS_PROFILE) or, without any, dummy ones."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from shared.errors import ConfigError

Service = Literal["sqs", "ssm", "iam", "sts"]
LOCAL_REGION = "us-east-1"
DUMMY_KEYS: dict[str, Any] = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def client(service: Service, endpoint: str | None = None) -> Any:
    """A boto3 client for `service`: AWS itself (region and credentials from the Lambda
    environment), or the local emulator at `endpoint` (`host:port`)."""
    import boto3

    if endpoint:
        session = boto3.session.Session(
            profile_name=os.environ.get("AWS_PROFILE") or None, region_name=LOCAL_REGION
        )
        if has_credentials(os.environ):
            return session.client(service, endpoint_url=f"http://{endpoint}")
        return session.client(service, endpoint_url=f"http://{endpoint}", **DUMMY_KEYS)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError(f"no AWS region for {service}: set AWS_REGION (Lambda sets it)")
    return boto3.client(service, region_name=region)


def has_credentials(environ: Mapping[str, str]) -> bool:
    """Whether the environment names credentials (keys, or a profile), so a local emulator
    that enforces IAM sees who calls; without any, a local call signs with dummy keys."""
    keys = environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY")
    return bool(keys or environ.get("AWS_PROFILE"))

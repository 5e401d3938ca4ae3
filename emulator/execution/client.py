"""A handler that runs in an execution environment: calling it invokes the function through
the Lambda service's Invoke API (at AWS_ENDPOINT_URL_LAMBDA, as boto3 names a Lambda
endpoint), so the gateway, the SQS pollers and the scheduler hand events to the packaged
function instead of importing it. A function error comes back as FunctionError carrying
Lambda's error type and message."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import httpx

from shared.errors import ConfigError

ENDPOINT = "AWS_ENDPOINT_URL_LAMBDA"
TIMED_OUT = "Sandbox.Timedout"


class FunctionError(Exception):
    """The function failed: Lambda's X-Amz-Function-Error, with the error's type and text."""

    def __init__(self, function: str, error: Mapping[str, Any]) -> None:
        self.function = function
        self.error_type = str(error.get("errorType", "Unhandled"))
        self.message = str(error.get("errorMessage", ""))
        super().__init__(f"{function}: {self.error_type}: {self.message}")

    @property
    def timed_out(self) -> bool:
        return self.error_type == TIMED_OUT


class ThrottledError(Exception):
    """Lambda's TooManyRequestsException: the function is at its reserved concurrency."""


def endpoint(environ: Mapping[str, str] = os.environ) -> str | None:
    """The Lambda service's URL when functions run in execution environments, else None."""
    return environ.get(ENDPOINT) or None


class RemoteHandler:
    """`handler(event, context)` for one function, invoked through the Lambda service."""

    def __init__(self, url: str, function: str, trigger: str, timeout_s: float) -> None:
        self.url = f"{url.rstrip('/')}/2015-03-31/functions/{function}/invocations"
        self.function = function
        self.trigger = trigger
        # the service answers within the function's timeout (plus a cold start's init)
        self.client = httpx.Client(timeout=timeout_s + 90, trust_env=False)

    def close(self) -> None:
        self.client.close()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        try:
            reply = self.client.post(
                self.url,
                content=json.dumps(event).encode(),
                headers={"x-quarry-trigger": self.trigger},
            )
        except httpx.HTTPError as exc:
            raise ConfigError(
                f"the Lambda service did not answer for {self.function}: {exc}"
            ) from exc
        if reply.status_code == 429:
            raise ThrottledError(self.function)
        if reply.status_code != 200:
            raise ConfigError(f"invoking {self.function}: {reply.status_code} {reply.text[:500]}")
        payload = reply.json() if reply.content else None
        if reply.headers.get("x-amz-function-error"):
            raise FunctionError(self.function, payload if isinstance(payload, dict) else {})
        return payload


def remote_handlers(
    url: str, functions: Mapping[str, float], trigger: str
) -> dict[str, RemoteHandler]:
    """A RemoteHandler per function name (with its timeout)."""
    return {name: RemoteHandler(url, name, trigger, timeout) for name, timeout in functions.items()}

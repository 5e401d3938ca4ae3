"""What an invocation (or a run, or a function's day) used, and what AWS would bill for it:
pure arithmetic over recorded counts and the price table, so a figure can be checked by hand.

- compute: GB-seconds (billed ms, each started millisecond, × memorySize / 1024) × the
  architecture's price per GB-second;
- requests: one Lambda request per invocation, plus one HTTP API request per HTTP invocation;
- queue: SQS requests, each call of up to ten messages billed once per started 64 KiB of
  its payload (send, receive), deletes once per call of up to ten;
- logs: bytes written to the log (CloudWatch ingestion, GB = 2^30 bytes);
- llm: the LLM spend the intelligence stage recorded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

from shared.metering.prices import AwsPrices, FreeTier

SQS_CHUNK_BYTES = 64 * 1024
SQS_BATCH = 10
GB = 1024**3
COMPONENTS = ("compute", "requests", "queue", "logs", "llm")


def usd(value: float) -> str:
    """Dollars to three significant digits however small, without trailing zeros:
    $0.00000022, $0.0234, $1.5."""
    if value == 0:
        return "$0"
    places = max(2, 2 - math.floor(math.log10(abs(value))))
    return "$" + f"{value:.{places}f}".rstrip("0").rstrip(".")


def billed_ms(seconds: float) -> int:
    """Lambda's billed duration: every started millisecond, at least one."""
    return max(1, math.ceil(seconds * 1000))


def sqs_requests(sizes: Sequence[int]) -> int:
    """Billed SQS requests for moving messages of these body sizes in calls of up to ten
    (SendMessageBatch, ReceiveMessage): each call counts once per started 64 KiB."""
    total = 0
    for start in range(0, len(sizes), SQS_BATCH):
        payload = sum(sizes[start : start + SQS_BATCH])
        total += max(1, math.ceil(payload / SQS_CHUNK_BYTES))
    return total


def sqs_delete_requests(messages: int) -> int:
    """Billed DeleteMessageBatch calls for `messages` receipts (their payload is tiny)."""
    return math.ceil(messages / SQS_BATCH)


@dataclass(frozen=True)
class Usage:
    """Counts that cost money; fractional where an invocation's records belong to several
    runs and each run takes its share."""

    invocations: float = 0.0
    billed_ms: float = 0.0
    mb_ms: float = 0.0  # billed ms × memorySize in MB, summed
    lambda_requests: float = 0.0
    http_requests: float = 0.0
    sqs_requests: float = 0.0
    log_bytes: float = 0.0

    @property
    def gb_seconds(self) -> float:
        return self.mb_ms / 1024 / 1000

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def scaled(self, share: float) -> Usage:
        return Usage(*(getattr(self, f.name) * share for f in fields(self)))


@dataclass(frozen=True)
class Cost:
    """Estimated USD by component."""

    compute: float = 0.0
    requests: float = 0.0
    queue: float = 0.0
    logs: float = 0.0
    llm: float = 0.0

    @property
    def total(self) -> float:
        return self.compute + self.requests + self.queue + self.logs + self.llm

    def __add__(self, other: Cost) -> Cost:
        return Cost(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def per(self, count: float, unit: int = 1000) -> Cost:
        """The cost of `unit` of whatever `count` this cost was spent on (0 for none)."""
        factor = unit / count if count else 0.0
        return Cost(*(getattr(self, f.name) * factor for f in fields(self)))


def estimate(
    usage: Usage, prices: AwsPrices, architecture: str = "x86_64", llm_usd: float = 0.0
) -> Cost:
    """What AWS would bill for `usage` at `prices` (see the module doc), plus `llm_usd`."""
    return Cost(
        compute=usage.gb_seconds * prices.lambda_gb_second[architecture],
        requests=usage.lambda_requests * prices.lambda_request
        + usage.http_requests * prices.http_api_request,
        queue=usage.sqs_requests * prices.sqs_request,
        logs=usage.log_bytes / GB * prices.logs_per_gb,
        llm=llm_usd,
    )


def monthly(
    usage: Usage, prices: AwsPrices, architecture: str, free: FreeTier | None = None
) -> Cost:
    """A month's bill for `usage`, less the free tier when one is given."""
    if free is None:
        return estimate(usage, prices, architecture)
    gb_s = max(0.0, usage.gb_seconds - free.lambda_gb_seconds)
    left = Usage(
        mb_ms=gb_s * 1024 * 1000,
        lambda_requests=max(0.0, usage.lambda_requests - free.lambda_requests),
        http_requests=max(0.0, usage.http_requests - free.http_api_requests),
        sqs_requests=max(0.0, usage.sqs_requests - free.sqs_requests),
        log_bytes=max(0.0, usage.log_bytes - free.logs_ingestion_gb * GB),
    )
    return estimate(left, prices, architecture)

"""API bodies of a run's estimated AWS cost: the figures, and the inputs they follow from."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from shared.metering.usage import Cost, Usage

ESTIMATE = (
    "An estimate of the AWS bill, not a bill: billed durations are this machine's timings, "
    "which differ from the CPU share Lambda gives a function at its memory size; requests, "
    "queue calls and log bytes are counted as Lambda, SQS, the HTTP API and CloudWatch Logs "
    "bill them."
)


class CostOut(BaseModel):
    """Estimated USD by component."""

    compute_usd: float = Field(description="Lambda GB-seconds × the price per GB-second.")
    requests_usd: float = Field(description="Lambda requests and HTTP API requests.")
    queue_usd: float = Field(description="SQS requests (64 KiB chunks).")
    logs_usd: float = Field(description="CloudWatch Logs ingestion of the bytes logged.")
    llm_usd: float = Field(description="LLM spend from the LLM price table.")
    total_usd: float

    @classmethod
    def of(cls, cost: Cost) -> CostOut:
        return cls(
            compute_usd=cost.compute,
            requests_usd=cost.requests,
            queue_usd=cost.queue,
            logs_usd=cost.logs,
            llm_usd=cost.llm,
            total_usd=cost.total,
        )


class UsageOut(BaseModel):
    """What the figures are computed from (shares where an invocation served several runs)."""

    invocations: float
    billed_ms: float = Field(description="Billed milliseconds (each started ms), summed.")
    gb_seconds: float = Field(description="Billed seconds × memorySize in GB, summed.")
    lambda_requests: float
    http_requests: float = Field(description="HTTP API requests.")
    sqs_requests: float = Field(description="SQS requests: send, receive, delete.")
    log_bytes: float

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        return cls(
            invocations=usage.invocations,
            billed_ms=usage.billed_ms,
            gb_seconds=usage.gb_seconds,
            lambda_requests=usage.lambda_requests,
            http_requests=usage.http_requests,
            sqs_requests=usage.sqs_requests,
            log_bytes=usage.log_bytes,
        )


class FunctionCostOut(BaseModel):
    """One function's part of a run."""

    function: str
    memory_mb: int
    architecture: str
    usage: UsageOut
    cost: CostOut


class RunCostOut(BaseModel):
    """A run's estimated AWS cost, broken down, with its inputs and the prices used."""

    note: str = Field(ESTIMATE, description="What this figure is, and is not.")
    region: str = Field(description="The region whose prices were applied.")
    prices_taken: date = Field(description="When those prices were copied from AWS's pages.")
    cost: CostOut
    usage: UsageOut
    llm_tokens: int = Field(description="LLM tokens the run spent (the llm figure's input).")
    functions: list[FunctionCostOut]

"""CloudWatch Embedded Metric Format: in Lambda, where nothing can scrape /metrics, each
invocation writes one JSON line that CloudWatch turns into the same metrics Prometheus reads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NAMESPACE = "Quarry"


@dataclass(frozen=True)
class HttpOutcome:
    """What an HTTP invocation answered: the route template (not the raw path, whose ids
    would make a series per document) and the status code."""

    method: str
    route: str
    status: int


def is_lambda(environ: Mapping[str, str]) -> bool:
    """Whether this process is a Lambda execution environment (the runtime sets this)."""
    return bool(environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def emf_line(
    *,
    function: str,
    trigger: str,
    outcome: str,
    request_id: str,
    duration_s: float,
    cold: bool,
    timestamp_ms: int,
    http: HttpOutcome | None = None,
) -> str:
    """One invocation's metrics as an EMF document, named as the Prometheus series are."""
    directives: list[dict[str, Any]] = [
        {
            "Namespace": NAMESPACE,
            "Dimensions": [["function", "trigger", "outcome"], ["function"]],
            "Metrics": [
                {"Name": "quarry_function_invocations_total", "Unit": "Count"},
                {"Name": "quarry_function_duration_seconds", "Unit": "Seconds"},
                {"Name": "quarry_function_cold_starts_total", "Unit": "Count"},
                {"Name": "quarry_function_timeouts_total", "Unit": "Count"},
            ],
        }
    ]
    doc: dict[str, Any] = {
        "function": function,
        "trigger": trigger,
        "outcome": outcome,
        "request_id": request_id,
        "quarry_function_invocations_total": 1,
        "quarry_function_duration_seconds": round(duration_s, 6),
        "quarry_function_cold_starts_total": 1 if cold else 0,
        "quarry_function_timeouts_total": 1 if outcome == "timeout" else 0,
    }
    if http is not None:
        directives.append(
            {
                "Namespace": NAMESPACE,
                "Dimensions": [["function", "method", "route", "status"]],
                "Metrics": [
                    {"Name": "quarry_http_requests_total", "Unit": "Count"},
                    {"Name": "quarry_http_request_duration_seconds", "Unit": "Seconds"},
                ],
            }
        )
        doc |= {
            "method": http.method,
            "route": http.route,
            "status": str(http.status),
            "quarry_http_requests_total": 1,
            "quarry_http_request_duration_seconds": round(duration_s, 6),
        }
    document = {"_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}, **doc}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)

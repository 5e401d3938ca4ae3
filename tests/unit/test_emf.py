"""CloudWatch Embedded Metric Format lines: the Prometheus names, valid EMF structure."""

from __future__ import annotations

import json
from typing import Any

from shared.observability.emf import HttpOutcome, emf_line, is_lambda


def _check_emf(doc: dict[str, Any]) -> list[str]:
    """The EMF specification's rules: every metric named in a directive is a number at the
    root, every dimension key is a string at the root; returns the metric names."""
    names = []
    for directive in doc["_aws"]["CloudWatchMetrics"]:
        assert directive["Namespace"] == "Quarry"
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                assert isinstance(doc[key], str), key
        for metric in directive["Metrics"]:
            assert isinstance(doc[metric["Name"]], int | float), metric
            names.append(metric["Name"])
    assert isinstance(doc["_aws"]["Timestamp"], int)
    return names


def test_emf_line_of_a_stage_invocation() -> None:
    line = emf_line(
        function="extraction",
        trigger="sqs",
        outcome="timeout",
        request_id="req-1",
        duration_s=6.0001234,
        cold=True,
        timestamp_ms=1_700_000_000_000,
    )
    assert "\n" not in line
    doc = json.loads(line)
    assert _check_emf(doc) == [
        "quarry_function_invocations_total",
        "quarry_function_duration_seconds",
        "quarry_function_cold_starts_total",
        "quarry_function_timeouts_total",
    ]
    assert (doc["function"], doc["outcome"]) == ("extraction", "timeout")
    assert doc["quarry_function_duration_seconds"] == 6.000123
    assert doc["quarry_function_cold_starts_total"] == 1
    assert doc["quarry_function_timeouts_total"] == 1
    assert doc["request_id"] == "req-1"


def test_emf_line_of_an_http_invocation_has_route_and_status_dimensions() -> None:
    doc = json.loads(
        emf_line(
            function="sources",
            trigger="http",
            outcome="success",
            request_id="req-2",
            duration_s=0.01,
            cold=False,
            timestamp_ms=1,
            http=HttpOutcome("GET", "/api/v1/sources/{source_id}", 404),
        )
    )
    names = _check_emf(doc)
    assert names[-2:] == ["quarry_http_requests_total", "quarry_http_request_duration_seconds"]
    assert doc["_aws"]["CloudWatchMetrics"][1]["Dimensions"] == [
        ["function", "method", "route", "status"]
    ]
    assert (doc["route"], doc["status"], doc["quarry_function_timeouts_total"]) == (
        "/api/v1/sources/{source_id}",
        "404",
        0,
    )


def test_emf_only_in_a_lambda_environment() -> None:
    assert is_lambda({"AWS_LAMBDA_FUNCTION_NAME": "quarry-dev-health"})
    assert not is_lambda({})
    assert not is_lambda({"AWS_LAMBDA_FUNCTION_NAME": ""})

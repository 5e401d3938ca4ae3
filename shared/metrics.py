"""Per-function Prometheus metrics; names are stable: later work adds series, never renames."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INVOCATIONS = Counter(
    "quarry_function_invocations",
    "Function invocations by trigger and outcome.",
    ["function", "trigger", "outcome"],
)
DURATION = Histogram(
    "quarry_function_duration_seconds",
    "Wall time of one invocation.",
    ["function", "trigger"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
COLD_STARTS = Counter(
    "quarry_function_cold_starts",
    "Invocations that found no warm execution environment.",
    ["function"],
)
INIT = Histogram(
    "quarry_function_init_seconds",
    "Time to initialise a function's execution environment (module import).",
    ["function"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DOCUMENTS = Counter(
    "quarry_documents",
    "Documents leaving a pipeline stage, by outcome.",
    ["stage", "outcome"],
)
REPLICA_LAG = Gauge(
    "quarry_replica_lag_seconds",
    "How far the read replica is behind the primary, as this process last measured it "
    "(0 when it has replayed all it received; +Inf when unreachable or not yet replaying).",
)
THROTTLES = Counter(
    "quarry_function_throttles",
    "Invocations refused (HTTP) or delayed (stages) by reserved concurrency.",
    ["function"],
)
TIMEOUTS = Counter(
    "quarry_function_timeouts",
    "Invocations stopped at the function's timeout.",
    ["function"],
)
CONCURRENT = Gauge(
    "quarry_function_concurrent_executions",
    "Executions in progress in this process.",
    ["function"],
)

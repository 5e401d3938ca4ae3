"""Per-function Prometheus metrics; names are stable: later work adds series, never renames."""

from __future__ import annotations

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from shared.metrics.queues import QueueCollector

# Upper bounds of the duration histogram, seconds; the invocation ledger's per-minute buckets
# are the same bounds, so its percentiles and Prometheus' agree.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
INVOCATIONS = Counter(
    "quarry_function_invocations",
    "Function invocations by trigger and outcome.",
    ["function", "trigger", "outcome"],
)
DURATION = Histogram(
    "quarry_function_duration_seconds",
    "Wall time of one invocation.",
    ["function", "trigger"],
    buckets=DURATION_BUCKETS,
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
RETRIES = Counter(
    "quarry_queue_retries",
    "Stage messages sent again after a failed attempt (or reclaimed from a dead worker).",
    ["stage"],
)
DEAD_LETTERS = Counter(
    "quarry_queue_dead_letters",
    "Stage messages dead-lettered after their last allowed attempt.",
    ["stage"],
)
CACHE_REQUESTS = Counter(
    "quarry_cache_requests",
    "Cache reads by result (hit or miss).",
    ["result"],
)
HTTP_REQUESTS = Counter(
    "quarry_http_requests",
    "HTTP requests answered by a function, by route template and status code.",
    ["function", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "quarry_http_request_duration_seconds",
    "Time from a request's arrival at the function to its response's start.",
    ["function", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ALERTS_RECEIVED = Counter(
    "quarry_alerts_received",
    "Alerts received from Alertmanager, by status (firing or resolved).",
    ["status"],
)
QUEUES = QueueCollector()
REGISTRY.register(QUEUES)
LLM_TOKENS = Counter(
    "quarry_llm_tokens",
    "LLM tokens spent, by provider, model and kind (input or output).",
    ["provider", "model", "kind"],
)
LLM_COST = Counter(
    "quarry_llm_cost_usd",
    "Estimated LLM cost in USD from the price table (unpriced models count 0).",
    ["provider", "model"],
)
LLM_REQUESTS = Counter(
    "quarry_llm_requests",
    "LLM provider calls by outcome (ok, rate_limited, unavailable, timeout, truncated, "
    "refused, error).",
    ["provider", "model", "outcome"],
)
LLM_CACHE = Counter(
    "quarry_llm_cache",
    "LLM completion cache lookups by result (hit or miss).",
    ["result"],
)
LLM_BUDGET_EXCEEDED = Counter(
    "quarry_llm_budget_exceeded",
    "LLM calls refused because they would pass the run's budget.",
)
COST = Counter(
    "quarry_cost_usd",
    "Estimated AWS cost in USD of this process's invocations (compute, requests, queue, logs) "
    "and LLM calls (llm), from the price tables and what was measured locally.",
    ["function", "component"],
)

"""Figures from histogram buckets and this process's Prometheus registry (pure over samples).

Percentiles are estimated from histogram buckets the way Prometheus' histogram_quantile does
(linear within the bucket), so they are as coarse as the buckets.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """The value below which a share `q` of observations fell, from cumulative bucket counts
    keyed by upper bound; None with no data."""
    ordered = sorted(buckets.items())
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return ordered[-1][0]


def queue_depths(families: Iterable[Metric]) -> dict[str, int]:
    """Messages per stage queue as this process sees them (the embedded platform's broker;
    nothing in a stack dashboard instance, which watches no queue)."""
    out: dict[str, int] = {}
    for family in families:
        for s in family.samples:
            if s.name == "quarry_queue_depth_messages" and "stage" in s.labels:
                out[s.labels["stage"]] = out.get(s.labels["stage"], 0) + int(s.value)
    return out


def process_queue_depths() -> dict[str, int]:
    return queue_depths(REGISTRY.collect())

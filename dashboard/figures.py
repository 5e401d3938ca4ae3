"""Per-function figures from this process's Prometheus registry: pure over metric samples.

Percentiles are estimated from histogram buckets the way Prometheus' histogram_quantile does
(linear within the bucket), so they are as coarse as the buckets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric


@dataclass
class FunctionFigures:
    invocations: int = 0
    errors: int = 0
    cold_starts: int = 0
    throttles: int = 0
    buckets: dict[float, float] = field(default_factory=dict)

    def quantile(self, q: float) -> float | None:
        """Seconds below which a share `q` of invocations finished; None with no data."""
        return quantile(q, self.buckets)


def quantile(q: float, buckets: dict[float, float]) -> float | None:
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


def figures(families: Iterable[Metric]) -> dict[str, FunctionFigures]:
    """Figures per function name from metric families (REGISTRY.collect() or parsed text)."""
    out: dict[str, FunctionFigures] = defaultdict(FunctionFigures)
    for family in families:
        for s in family.samples:
            fn = s.labels.get("function")
            if fn is None:
                continue
            f = out[fn]
            if s.name == "quarry_function_invocations_total":
                f.invocations += int(s.value)
                if s.labels.get("outcome") == "error":
                    f.errors += int(s.value)
            elif s.name == "quarry_function_cold_starts_total":
                f.cold_starts += int(s.value)
            elif s.name == "quarry_function_throttles_total":
                f.throttles += int(s.value)
            elif s.name == "quarry_function_duration_seconds_bucket":
                le = float(s.labels["le"])
                f.buckets[le] = f.buckets.get(le, 0.0) + s.value
    return dict(out)


def process_figures() -> dict[str, FunctionFigures]:
    return figures(REGISTRY.collect())


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

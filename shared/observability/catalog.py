"""The metric names Quarry exports, read from shared/metrics/'s registry objects, so
dashboards and alert rules can be checked against the code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from prometheus_client.metrics import MetricWrapperBase

from shared import metrics
from shared.metrics.queues import QueueCollector

Exporter: TypeAlias = MetricWrapperBase | QueueCollector
# Sample names Prometheus derives from a family, by its type.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "unknown": ("",),
}


def collectors() -> list[Exporter]:
    """Every metric and collector object defined in shared/metrics/."""
    return [
        obj for obj in vars(metrics).values() if isinstance(obj, MetricWrapperBase | QueueCollector)
    ]


def exported_names(found: Iterable[Exporter] | None = None) -> set[str]:
    """Every series name a scrape of Quarry's processes can return."""
    names: set[str] = set()
    for collector in collectors() if found is None else found:
        for family in collector.describe():
            names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names

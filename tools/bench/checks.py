"""A benchmark report checked whole before it is written or read: every figure and ratio a
finite positive number, each baseline present at 1.0, each repeated ratio within its range."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from tools.bench.report import Report


def _positive(where: str, key: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{where}: {key} is {value!r}; expected a finite number above 0")


def validate(report: Report | Mapping[str, Any]) -> Report:
    """Check a report is whole and every figure and ratio is a finite positive number."""
    data = report.model_dump() if isinstance(report, Report) else report
    try:
        checked = Report.model_validate(data, strict=False)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ValueError(f"the report is malformed: {problems}") from exc
    if not checked.benchmarks:
        raise ValueError("the report has no benchmarks")
    for bench in checked.benchmarks:
        names = [v.name for v in bench.variants]
        if bench.baseline not in names:
            raise ValueError(f"benchmark {bench.name!r}: baseline {bench.baseline!r} is missing")
        for v in bench.variants:
            where = f"benchmark {bench.name!r}, variant {v.name!r}"
            for key in ("rps", "p50_ms", "p99_ms", "ratio"):
                _positive(where, key, getattr(v, key))
            for key in ("budget_ms", "ideal_rps", "cost_per_1000_usd"):
                if getattr(v, key) is not None:
                    _positive(where, key, getattr(v, key))
            low, high = v.ratio_min, v.ratio_max
            if (low is None) != (high is None):
                raise ValueError(f"{where}: ratio_min and ratio_max come together")
            if low is not None and high is not None:
                _positive(where, "ratio_min", low)
                if not low <= v.ratio <= high:
                    raise ValueError(
                        f"{where}: the ratio {v.ratio} is outside its repetitions' range "
                        f"{low}–{high}"
                    )
            if v.requests <= 0 or v.concurrency <= 0:
                raise ValueError(f"{where}: requests and concurrency must be above 0")
            if v.name == bench.baseline and v.ratio != 1.0:
                raise ValueError(f"{where}: the baseline's ratio is {v.ratio}, not 1.0")
    return checked

"""The scaling benchmark's verdict: where doubling workers stops paying, from the figures."""

from __future__ import annotations

from tools.bench.report import Measurement
from tools.bench.scaling import knee


def _m(workers: int, rps: float) -> Measurement:
    return Measurement(f"stack-w{workers}", 1000, workers, rps, 1.0, 1.0)


def test_knee_is_where_doubling_gains_too_little() -> None:
    verdict = knee([_m(1, 10.0), _m(2, 18.0), _m(4, 19.0)], cores=2)
    assert verdict.startswith("the knee is at 2 workers per stage: 4 give 1.06x of 2's 18.0")
    assert knee([_m(1, 10.0), _m(2, 11.0)]).startswith("the knee is at 1 worker per stage")
    assert "2 CPU cores" in verdict


def test_knee_absent_while_every_doubling_pays() -> None:
    assert knee([_m(4, 35.0), _m(1, 10.0), _m(2, 19.0)]) == (
        "no knee up to 4 workers per stage (35.0 docs/s)."
    )

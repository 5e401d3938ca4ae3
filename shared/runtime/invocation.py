"""The one invocation wrapper: metrics, cold starts, request id and a REPORT log line."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shared import metrics
from shared.logs import function_var, get_logger, request_id_var

log = get_logger("quarry.invocation")
_warm: set[str] = set()
_warm_lock = threading.Lock()


@dataclass
class Invocation:
    """Mutable outcome of one invocation; the wrapper reads it when the block ends."""

    function: str
    trigger: str
    request_id: str
    cold: bool
    outcome: str = "success"


def record_init(function: str, seconds: float) -> None:
    """Record the time a function's execution environment took to initialise."""
    metrics.INIT.labels(function).observe(seconds)


def reset_warm(function: str | None = None) -> None:
    """Forget warm environments (after a reload), so the next invocation is a cold start."""
    with _warm_lock:
        if function is None:
            _warm.clear()
        else:
            _warm.discard(function)


@contextmanager
def invocation(function: str, trigger: str, request_id: str) -> Iterator[Invocation]:
    """Wrap one invocation of `function`; exceptions count as errors and propagate."""
    with _warm_lock:
        cold = function not in _warm
        _warm.add(function)
    if cold:
        metrics.COLD_STARTS.labels(function).inc()
    inv = Invocation(function, trigger, request_id, cold)
    rid_token = request_id_var.set(request_id)
    fn_token = function_var.set(function)
    start = time.perf_counter()
    try:
        yield inv
    except BaseException:
        inv.outcome = "error"
        raise
    finally:
        elapsed = time.perf_counter() - start
        metrics.INVOCATIONS.labels(function, trigger, inv.outcome).inc()
        metrics.DURATION.labels(function, trigger).observe(elapsed)
        log.info(
            "REPORT",
            extra={
                "trigger": trigger,
                "outcome": inv.outcome,
                "duration_ms": round(elapsed * 1000, 2),
                "cold_start": cold,
            },
        )
        request_id_var.reset(rid_token)
        function_var.reset(fn_token)

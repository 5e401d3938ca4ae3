"""The one invocation wrapper: metrics, cold starts, request id and Lambda's REPORT log line
(and, in Lambda, the invocation's metrics as one CloudWatch EMF line on stdout)."""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shared import metrics
from shared.handlers.memory import peak_rss_mb
from shared.logs import function_var, get_logger, request_id_var
from shared.observability.emf import HttpOutcome, emf_line, is_lambda

log = get_logger("quarry.invocation")
_warm: set[str] = set()
_warm_lock = threading.Lock()
_memory_sizes: dict[str, int] = {}


@dataclass
class Invocation:
    """Mutable outcome of one invocation; the wrapper reads it when the block ends."""

    function: str
    trigger: str
    request_id: str
    cold: bool
    outcome: str = "success"
    http: HttpOutcome | None = None


def record_init(function: str, seconds: float) -> None:
    """Record the time a function's execution environment took to initialise."""
    metrics.INIT.labels(function).observe(seconds)


def declare_memory(function: str, memory_size_mb: int) -> None:
    """Record a function's memorySize, for REPORT lines of call sites that do not pass it."""
    _memory_sizes[function] = memory_size_mb


def report_message(
    request_id: str, duration_ms: float, billed_ms: int, memory_size_mb: int | None, used_mb: int
) -> str:
    """The text of Lambda's REPORT line (Memory Size is left out when it is not known)."""
    size = "" if memory_size_mb is None else f" Memory Size: {memory_size_mb} MB"
    return (
        f"REPORT RequestId: {request_id} Duration: {duration_ms:.2f} ms "
        f"Billed Duration: {billed_ms} ms{size} Max Memory Used: {used_mb} MB"
    )


def reset_warm(function: str | None = None) -> None:
    """Forget warm environments (after a reload), so the next invocation is a cold start."""
    with _warm_lock:
        if function is None:
            _warm.clear()
        else:
            _warm.discard(function)


@contextmanager
def invocation(
    function: str, trigger: str, request_id: str, memory_size_mb: int | None = None
) -> Iterator[Invocation]:
    """Wrap one invocation of `function`; exceptions count as errors and propagate."""
    with _warm_lock:
        cold = function not in _warm
        _warm.add(function)
    if cold:
        metrics.COLD_STARTS.labels(function).inc()
    inv = Invocation(function, trigger, request_id, cold)
    rid_token = request_id_var.set(request_id)
    fn_token = function_var.set(function)
    metrics.CONCURRENT.labels(function).inc()
    start = time.perf_counter()
    try:
        yield inv
    except BaseException:
        inv.outcome = "error"
        raise
    finally:
        elapsed = time.perf_counter() - start
        metrics.CONCURRENT.labels(function).dec()
        metrics.INVOCATIONS.labels(function, trigger, inv.outcome).inc()
        metrics.DURATION.labels(function, trigger).observe(elapsed)
        if inv.http is not None:
            http = inv.http
            metrics.HTTP_REQUESTS.labels(function, http.method, http.route, http.status).inc()
            metrics.HTTP_DURATION.labels(function, http.method, http.route).observe(elapsed)
        if is_lambda(os.environ):
            _write_emf(inv, elapsed)
        size = _memory_sizes.get(function) if memory_size_mb is None else memory_size_mb
        duration_ms = round(elapsed * 1000, 2)
        billed_ms = max(1, math.ceil(elapsed * 1000))  # Lambda bills each started millisecond
        used_mb = peak_rss_mb()
        log.info(
            report_message(request_id, duration_ms, billed_ms, size, used_mb),
            extra={
                "trigger": trigger,
                "outcome": inv.outcome,
                "duration_ms": duration_ms,
                "billed_duration_ms": billed_ms,
                "memory_size_mb": size,
                "max_memory_used_mb": used_mb,
                "cold_start": cold,
            },
        )
        request_id_var.reset(rid_token)
        function_var.reset(fn_token)


def _write_emf(inv: Invocation, elapsed: float) -> None:
    line = emf_line(
        function=inv.function,
        trigger=inv.trigger,
        outcome=inv.outcome,
        request_id=inv.request_id,
        duration_s=elapsed,
        cold=inv.cold,
        timestamp_ms=int(time.time() * 1000),
        http=inv.http,
    )
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

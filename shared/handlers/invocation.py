"""The one invocation wrapper: metrics, cold starts, request id, Lambda's REPORT log line (and,
in Lambda, the invocation's metrics as one CloudWatch EMF line on stdout), and the invocation's
record in the ledger: billed duration, memory, requests by kind, log bytes and the runs it
worked for, which its estimated cost follows from."""

from __future__ import annotations

import itertools
import os
import platform
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from shared import metrics
from shared.handlers.memory import peak_rss_mb
from shared.logs import LogBytes, function_var, get_logger, log_bytes_var, request_id_var
from shared.metering.invocation import Invocation, invocation_var
from shared.metering.ledger import LEDGER, Record
from shared.metering.usage import billed_ms as billed_ms_of
from shared.observability.emf import emf_line, is_lambda
from shared.ports import current

log = get_logger("quarry.invocation")
_warm: set[str] = set()
_warm_lock = threading.Lock()
_memory_sizes: dict[str, int] = {}
_architectures: dict[str, str] = {}
# Invocation ids: random per process, then counted (unique without a syscall each); a forked
# child draws its own prefix.
_ID_PREFIX = uuid.uuid4().hex[:16]
_ids = itertools.count()


def _new_prefix() -> None:
    global _ID_PREFIX
    _ID_PREFIX = uuid.uuid4().hex[:16]


os.register_at_fork(after_in_child=_new_prefix)


def record_init(function: str, seconds: float) -> None:
    """Record the time a function's execution environment took to initialise."""
    metrics.INIT.labels(function).observe(seconds)


def declare_memory(function: str, memory_size_mb: int, architecture: str = "x86_64") -> None:
    """Record a function's memorySize (and architecture), for the REPORT line and the cost of
    invocations whose call sites do not pass them."""
    _memory_sizes[function] = memory_size_mb
    _architectures[function] = architecture


def _lambda_memory() -> int | None:
    """In Lambda, the function's memorySize as the runtime states it."""
    value = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    return int(value) if value.isdigit() else None


def _architecture(function: str) -> str:
    if function in _architectures:
        return _architectures[function]
    if is_lambda(os.environ) and platform.machine() in ("aarch64", "arm64"):
        return "arm64"
    return "x86_64"


def report_message(
    request_id: str, duration_ms: float, billed_ms: int, memory_size_mb: int | None, used_mb: int
) -> str:
    """The text of Lambda's REPORT line (Memory Size is left out when it is not known)."""
    size = "" if memory_size_mb is None else f" Memory Size: {memory_size_mb} MB"
    return (
        f"REPORT RequestId: {request_id} Duration: {duration_ms:.2f} ms "
        f"Billed Duration: {billed_ms} ms{size} Max Memory Used: {used_mb} MB"
    )


async def flush_in_lambda() -> None:
    """In Lambda, write the ledger before the handler returns: the execution environment is
    frozen afterwards, so no flusher task would run. Elsewhere the process's flusher does it."""
    if is_lambda(os.environ):
        await LEDGER.flush_quietly(current().db)


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
    inv_token = invocation_var.set(inv)
    written = LogBytes()
    log_token = log_bytes_var.set(written)
    metrics.CONCURRENT.labels(function).inc()
    started = time.time()
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
            written.count += _write_emf(inv, elapsed)
        size = _memory_sizes.get(function) if memory_size_mb is None else memory_size_mb
        size = size if size is not None else _lambda_memory()
        duration_ms = round(elapsed * 1000, 2)
        billed_ms = billed_ms_of(elapsed)
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
        LEDGER.record(_record(inv, started, elapsed, billed_ms, size or 0, written.count))
        log_bytes_var.reset(log_token)
        invocation_var.reset(inv_token)
        request_id_var.reset(rid_token)
        function_var.reset(fn_token)


def _record(
    inv: Invocation, started: float, elapsed: float, billed_ms: int, memory_mb: int, logs: int
) -> Record:
    records = sum(inv.runs.values())
    return Record(
        id=f"{_ID_PREFIX}{next(_ids):016x}",
        function=inv.function,
        trigger=inv.trigger,
        outcome=inv.outcome,
        started=started,
        duration_ms=elapsed * 1000,
        billed_ms=billed_ms,
        memory_mb=memory_mb,
        architecture=_architecture(inv.function),
        cold=inv.cold,
        request_id=inv.request_id,
        runs=tuple((run, n / records) for run, n in inv.runs.items() if records > 0),
        http_requests=1 if inv.trigger == "http" else 0,  # one HTTP API request each
        sqs_requests=inv.sqs_requests,
        log_bytes=logs,
    )


def _write_emf(inv: Invocation, elapsed: float) -> int:
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
    return len(line.encode()) + 1

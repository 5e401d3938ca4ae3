"""Profiling a stack worker on request: with BENCH_PROFILE_DIR set, the worker's steady state
(from "worker ready" to its stop) runs under cProfile, timed in CPU seconds (which other load
on the machine does not inflate as it does wall time), and it writes DIR/STAGE-PID.prof when
it stops. `quarry bench profile` sets it, runs one pipeline through the stack and summarises
the files. Unset, nothing is measured."""

from __future__ import annotations

import contextlib
import cProfile
import os
import time
from collections.abc import Iterator
from pathlib import Path

# Not a QUARRY_ setting: the settings refuse names they do not know, and this is a tool's switch.
PROFILE_ENV = "BENCH_PROFILE_DIR"


@contextlib.contextmanager
def profiled(name: str) -> Iterator[None]:
    """Profile the block (its thread: the event loop) into $BENCH_PROFILE_DIR/NAME-PID.prof."""
    folder = os.environ.get(PROFILE_ENV)
    if not folder:
        yield
        return
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        Path(folder).mkdir(parents=True, exist_ok=True)
        profile.dump_stats(Path(folder) / f"{name}-{os.getpid()}.prof")

"""Process memory as Lambda reports and limits it: peak and current RSS against memorySize."""

from __future__ import annotations

import functools
import logging
import os
import resource
import sys
from collections.abc import Awaitable, Callable
from typing import ParamSpec

P = ParamSpec("P")
log = logging.getLogger("quarry.memory")

MB = 1024 * 1024
# what a Lambda environment killed for memory reports, and the exit status of a SIGKILL
OUT_OF_MEMORY_EXIT = 137


def peak_rss_mb() -> int:
    """The process's peak resident set in MB: Lambda's "Max Memory Used"."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    per_unit = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return round(peak * per_unit / MB)


def current_rss_mb(statm: str | None = None) -> int:
    """The process's resident set now, in MB, from /proc/self/statm (or `statm`, its text);
    the peak where /proc is missing, which can only overstate it."""
    if statm is None:
        try:
            with open("/proc/self/statm") as f:
                statm = f.read()
        except OSError:
            return peak_rss_mb()
    pages = int(statm.split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / MB)


def over_limit(used_mb: int, memory_size_mb: int) -> str | None:
    """Lambda's out-of-memory error when `used_mb` exceeds the function's memorySize, else None."""
    if used_mb <= memory_size_mb:
        return None
    return (
        f"Runtime exited: out of memory: max memory used {used_mb} MB "
        f"> memorySize {memory_size_mb} MB"
    )


def limited(
    task: Callable[P, Awaitable[None]], memory_size_mb: int
) -> Callable[P, Awaitable[None]]:
    """`task`, checked after each run against memorySize: over it, the process logs Lambda's
    error and exits before the message is acknowledged, so it is delivered again."""

    @functools.wraps(task)
    async def checked(*args: P.args, **kwargs: P.kwargs) -> None:
        await task(*args, **kwargs)
        error = over_limit(current_rss_mb(), memory_size_mb)
        if error is not None:
            log.error(error, extra={"memory_size_mb": memory_size_mb})
            logging.shutdown()  # flush, since os._exit skips every handler and finaliser
            os._exit(OUT_OF_MEMORY_EXIT)

    return checked

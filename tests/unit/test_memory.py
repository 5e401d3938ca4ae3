"""Process memory as Lambda reports and limits it."""

from __future__ import annotations

import os

from shared.handlers.memory import current_rss_mb, over_limit, peak_rss_mb

PAGE = os.sysconf("SC_PAGE_SIZE")


def test_current_rss_reads_resident_pages_from_statm() -> None:
    pages = 300 * 1024 * 1024 // PAGE  # 300 MB resident
    assert current_rss_mb(f"900000 {pages} 2000 300 0 5000 0\n") == 300


def test_peak_rss_is_the_processes_high_water_mark_in_mb() -> None:
    peak = peak_rss_mb()
    assert 10 < peak < 64 * 1024  # a Python interpreter, in MB rather than KiB or bytes


def test_within_memory_size_is_not_an_error() -> None:
    assert over_limit(512, 512) is None
    assert over_limit(87, 512) is None


def test_over_memory_size_is_lambdas_out_of_memory_error() -> None:
    assert over_limit(600, 512) == (
        "Runtime exited: out of memory: max memory used 600 MB > memorySize 512 MB"
    )

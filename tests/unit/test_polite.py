"""Politeness arithmetic: Retry-After in both forms, the delay rule, and the in-process slot."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from shared.fetch.polite import MemoryPoliteness, host_delay, pause_after, retry_after
from shared.fetch.robots import is_robots_url

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1", 1.0),
        (" 30 ", 30.0),
        ("0", 0.0),
        ("7200", 120.0),  # capped: one site cannot park a worker for hours
        ("Sat, 01 Mar 2025 12:00:45 GMT", 45.0),
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),  # already past
        ("Sun, 02 Mar 2025 12:00:00 GMT", 120.0),
        ("Sat, 01 Mar 2025 12:00:45", None),  # no zone: not an RFC 9110 date
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header: str | None, seconds: float) -> None:
    assert retry_after(header, now=NOW) == seconds


def test_retry_after_reads_a_formatted_date_relative_to_now() -> None:
    header = format_datetime(datetime.fromtimestamp(NOW + 10, UTC), usegmt=True)
    assert retry_after(header, now=NOW) == 10.0


@pytest.mark.parametrize(
    ("base", "crawl_delay", "delay"),
    [(1.0, None, 1.0), (1.0, 0.5, 1.0), (1.0, 5.0, 5.0), (1.0, 600.0, 30.0), (0.0, None, 0.0)],
)
def test_host_delay_takes_the_longer_of_setting_and_crawl_delay(
    base: float, crawl_delay: float | None, delay: float
) -> None:
    assert host_delay(base, crawl_delay) == delay


@pytest.mark.parametrize(
    ("status", "header", "pause"),
    [
        (429, "3", 3.0),
        (503, "3", 3.0),
        (503, "999", 120.0),
        (429, "0", 1.0),  # never shorter than the host delay
        (429, None, 1.0),
        (200, "3", 1.0),  # only 429 and 503 are asking the crawler to back off
        (500, "3", 1.0),
        (None, "3", 1.0),  # no response at all
    ],
)
def test_pause_after_honours_retry_after_on_429_and_503(
    status: int | None, header: str | None, pause: float
) -> None:
    assert pause_after(1.0, status, header) == pause


@pytest.mark.parametrize(
    ("url", "robots"),
    [
        ("http://a.test/robots.txt", True),
        ("http://a.test/robots.txt?x=1", True),
        ("http://a.test/robots.txt/more", False),
        ("http://a.test/private", False),
    ],
)
def test_is_robots_url_names_only_the_file_itself(url: str, robots: bool) -> None:
    assert is_robots_url(url) is robots


async def test_memory_politeness_waits_for_the_slot_and_the_delay() -> None:
    polite = MemoryPoliteness()
    first = await polite.acquire("a.test:80", lease_s=5)
    waiter = asyncio.create_task(polite.acquire("a.test:80", lease_s=5))
    other = await asyncio.wait_for(polite.acquire("b.test:80", lease_s=5), 0.5)
    await asyncio.sleep(0.05)
    assert not waiter.done()  # the slot is held
    released = time.monotonic()
    await polite.release("a.test:80", first, wait_s=0.1)
    await waiter
    assert time.monotonic() - released >= 0.1
    await polite.release("b.test:80", other, wait_s=0)


async def test_memory_politeness_frees_a_slot_whose_lease_ran_out() -> None:
    polite = MemoryPoliteness()
    await polite.acquire("a.test:80", lease_s=0.05)  # never released: its holder died
    token = await asyncio.wait_for(polite.acquire("a.test:80", lease_s=5), 1.0)
    assert token

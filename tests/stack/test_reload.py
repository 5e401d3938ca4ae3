"""Hot reload under `quarry up`: a changed API source restarts the API instances one at a time
behind nginx while requests keep succeeding; processes that do not import it keep running."""

from __future__ import annotations

import os
import threading
import time

import httpx
import pytest

from tests.conftest import ROOT
from tests.stack.conftest import Stack, wait_for

pytestmark = pytest.mark.stack
APIS = ("api-1", "api-2", "api-3")
MESSAGE = (
    "reload: functions/api/health.py changed → restarting api-1, api-2, api-3 (functions: health)"
)


class Traffic:
    """Requests through nginx, ~25 a second (under its 50 r/s limit): health checks and,
    every fifth, a write."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sent = 0
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with self.stack.client() as client:
            while not self.stop.is_set():
                self.sent += 1
                try:
                    if self.sent % 5:
                        response = client.get("/api/v1/health")
                        ok = response.status_code == 200
                    else:
                        response = client.post(
                            "/api/v1/sources",
                            json={
                                "name": f"reload-{self.sent}",
                                "kind": "urls",
                                "urls": ["https://example.org/r"],
                            },
                        )
                        ok = response.status_code == 201
                    if not ok:
                        self.failures.append(f"{response.status_code} {response.text[:200]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                time.sleep(0.04)


def test_reload_restarts_api_instances_one_at_a_time_without_failed_requests(
    stack: Stack,
) -> None:
    before = {name: svc["pid"] for name, svc in stack.state["services"].items()}
    traffic = Traffic(stack)
    traffic.thread.start()
    try:
        time.sleep(1.0)
        began = time.monotonic()
        os.utime(ROOT / "functions/api/health.py")  # a save, content unchanged

        def reloaded() -> bool:
            state = stack.state
            pids = {name: svc["pid"] for name, svc in state["services"].items()}
            return not state["reloading"] and all(pids[n] != before[n] for n in APIS)

        wait_for("the API instances to be restarted one at a time", reloaded, 120)
        took = time.monotonic() - began
        mark = traffic.sent  # and the new instances serve: more traffic, counted not timed
        wait_for(
            "20 more requests after the reload, and over 100 in all",
            lambda: traffic.sent >= max(mark + 20, 101),
            120,
        )
    finally:
        traffic.stop.set()
        traffic.thread.join(10)
    after = {name: svc["pid"] for name, svc in stack.state["services"].items()}
    kept = {n: p for n, p in before.items() if n not in APIS}
    assert {n: after[n] for n in kept} == kept  # workers, web, scheduler keep their state
    assert traffic.failures == [], f"{len(traffic.failures)} of {traffic.sent} requests failed"
    assert traffic.sent > 100
    assert all(stack.service(n)["reloads"] >= 1 for n in APIS)
    assert all(stack.service(n)["restarts"] == 0 for n in APIS)  # not reported as crashes
    out = (stack.root / "up.out").read_text()
    assert MESSAGE in out
    assert "crashed" not in out
    print(
        f"rolling restart of 3 API instances took {took:.1f} s; {traffic.sent} requests, 0 failed"
    )

"""Observability of `quarry up`: every target scraped, a pipeline run moving the per-function
series, one request id from nginx to the stage workers, and a firing alert reaching the API
through Alertmanager."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from shared.flow import FLOW
from tests.conftest import ROOT
from tests.stack.conftest import Stack, wait_for

pytestmark = pytest.mark.stack
LABELS = json.loads((ROOT / "tests/sites/demo/labels.json").read_text())
RULE = """groups:
  - name: stack-test
    interval: 1s
    rules:
      - alert: QuarryStackTestAlert
        expr: vector(1)
        for: 0s
        labels:
          severity: warning
        annotations:
          summary: a rule the stack test fires
"""


def query(prom: str, expr: str) -> list[dict[str, Any]]:
    reply = httpx.get(prom + "/api/v1/query", params={"query": expr}, timeout=5).json()
    assert reply["status"] == "success", reply
    return list(reply["data"]["result"])


def by_function(prom: str) -> dict[str, float]:
    rows = query(prom, "sum by (function) (quarry_function_invocations_total)")
    return {r["metric"]["function"]: float(r["value"][1]) for r in rows}


def test_observability_targets_up_and_a_traced_run_moves_the_series(stack: Stack) -> None:
    prom = stack.service("prometheus")["url"]
    processes = [n for n in stack.state["services"] if n.split("-")[0] in ("api", "web")]
    processes += [n for n in stack.state["services"] if n.startswith("worker-")]
    expected = len(processes) + 1  # and the scheduler

    def all_up() -> list[dict[str, Any]] | None:
        targets = httpx.get(prom + "/api/v1/targets").json()["data"]["activeTargets"]
        up = [t for t in targets if t["health"] == "up"]
        return targets if len(up) == len(targets) == expected else None

    wait_for("every instance and worker to be scraped", all_up, 90)
    alertmanager = stack.service("alertmanager")["url"] + "/api/v2/alerts"
    wait_for(
        "Prometheus to send alerts to the stack's Alertmanager",
        lambda: (
            [
                m["url"]
                for m in httpx.get(prom + "/api/v1/alertmanagers").json()["data"][
                    "activeAlertmanagers"
                ]
            ]
            == [alertmanager]
        ),
        10,
    )
    before = by_function(prom)
    rid = f"stack-trace-{int(time.time())}"
    pages = [stack.demo + p["path"] for p in LABELS["pages"][:2]]
    with stack.client() as client:
        source = client.post("/api/v1/sources", json={"name": rid, "kind": "urls", "urls": pages})
        assert source.status_code == 201, source.text
        started = client.post(
            "/api/v1/runs", json={"source_id": source.json()["id"]}, headers={"X-Request-Id": rid}
        )
        assert started.status_code == 202, started.text
        assert started.headers["x-request-id"] == rid
        run_id = started.json()["id"]

        def final() -> dict[str, Any] | None:
            run = client.get(f"/api/v1/runs/{run_id}").json()
            return run if run["state"] not in ("queued", "running") else None

        run = wait_for("the traced run to finish", final, 120)
    assert run["state"] == "succeeded", run
    assert run["request_id"] == rid

    def moved() -> dict[str, float] | None:
        after = by_function(prom)
        # at least one invocation each: the two documents may come to a stage in one batch
        grew = all(after.get(s.name, 0) >= before.get(s.name, 0) + 1 for s in FLOW.chain)
        return after if grew else None

    wait_for("Prometheus to see the run's invocations per function", moved, 90)
    depth = query(prom, "max by (stage) (quarry_queue_depth_messages)")
    assert {r["metric"]["stage"] for r in depth} >= {s.name for s in FLOW.chain}

    def runs_routes() -> set[str] | None:  # the instance that took the POST is scraped in turn
        rows = query(prom, 'sum by (route) (quarry_http_requests_total{function="runs"})')
        routes = {r["metric"]["route"] for r in rows}
        return routes if "/api/v1/runs" in routes else None

    wait_for("Prometheus to see POST /api/v1/runs by its route template", runs_routes, 90)
    logs = stack.quarry("logs", "-n", "400").stdout  # every service, each line prefixed
    traced = {line.split(" ", 1)[0] for line in logs.splitlines() if rid in line}
    assert {"worker-discovery", "worker-intelligence"} <= traced, traced
    assert traced & {"worker-extraction", "worker-extraction-2"}, traced
    assert traced & {"api-1", "api-2", "api-3"}, traced


def test_observability_a_firing_rule_reaches_the_api_through_alertmanager(stack: Stack) -> None:
    prom = stack.service("prometheus")["url"]
    rule = stack.root / ".quarry/stack/prometheus/rules.d/stack-test.yml"
    rule.write_text(RULE, encoding="utf-8")
    try:
        assert httpx.post(prom + "/-/reload", timeout=10).status_code == 200
        with stack.client() as client:

            def shown() -> dict[str, Any] | None:
                items = client.get("/api/v1/alerts").json()["items"]
                return next((a for a in items if a["name"] == "QuarryStackTestAlert"), None)

            alert = wait_for("the test alert to reach GET /api/v1/alerts", shown, 90)
            wait_for(
                "the dashboard's Alerts page to show it",
                lambda: "QuarryStackTestAlert" in client.get("/alerts").text,
                60,
            )
        assert alert["status"] == "firing"
        assert alert["severity"] == "warning"
        assert alert["summary"] == "a rule the stack test fires"
        assert alert["generator_url"].startswith("http")
    finally:
        rule.unlink(missing_ok=True)
        httpx.post(prom + "/-/reload", timeout=10)

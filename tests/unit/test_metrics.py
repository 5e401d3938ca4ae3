"""Metrics: alert rules use exported names; queue gauges, retries, HTTP series and the
concurrency gauge move as they should; request ids ride on queue messages."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from prometheus_client import REGISTRY
from taskiq import InMemoryBroker

from shared.dispatch.taskiq import TaskiqDispatcher
from shared.errors import UnavailableError
from shared.handlers.http import route_of
from shared.handlers.invocation import invocation
from shared.lambda_events.sqs import message_record, request_id_attribute, request_id_of_record
from shared.logs import request_id_var
from shared.metrics.queues import (
    MemoryQueueLedger,
    QueueCollector,
    QueueState,
    age_of_id,
    merge,
)
from shared.observability.alerts import AlertTokenError, check_token
from shared.observability.catalog import exported_names
from shared.observability.emf import HttpOutcome

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "infra" / "prometheus" / "rules" / "quarry.yml"
METRIC = re.compile(r"\b(quarry_[a-z0-9_]+|up)\b(?!\s*\()")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_metrics_alert_rules_cover_the_issue_and_use_exported_names() -> None:
    rules = _rules()
    assert {r["alert"] for r in rules} >= {
        "QuarryHighErrorRate",
        "QuarryHighLatencyP95",
        "QuarryQueueBacklog",
        "QuarryQueueOldestMessageAge",
        "QuarryDeadLetters",
        "QuarryReplicaLag",
        "QuarryWorkerDown",
        "QuarryLLMBudgetExceeded",
        "QuarryLLMSpendBurn",
    }
    exported = exported_names() | {"up"}
    for rule in rules:
        used = set(METRIC.findall(rule["expr"]))
        assert used, rule["alert"]
        assert used <= exported, f"{rule['alert']} uses {sorted(used - exported)}"
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]


def test_metrics_exported_names_include_every_family_of_the_issue() -> None:
    assert exported_names() >= {
        "quarry_function_concurrent_executions",
        "quarry_function_throttles_total",
        "quarry_function_timeouts_total",
        "quarry_queue_depth_messages",
        "quarry_queue_oldest_message_age_seconds",
        "quarry_queue_retries_total",
        "quarry_queue_dead_letters_total",
        "quarry_documents_total",
        "quarry_llm_tokens_total",
        "quarry_llm_cost_usd_total",
        "quarry_llm_requests_total",
        "quarry_llm_cache_total",
        "quarry_llm_budget_exceeded_total",
        "quarry_cache_requests_total",
        "quarry_replica_lag_seconds",
        "quarry_http_requests_total",
        "quarry_http_request_duration_seconds_bucket",
    }


def test_metrics_queue_ledger_counts_waiting_and_inflight_messages() -> None:
    ledger = MemoryQueueLedger()
    assert ledger.queue_states() == []
    ledger.declare("discovery")
    assert ledger.queue_states() == [QueueState("discovery", 0, 0, 0.0)]
    ledger.sent("extraction", "m1#1")
    ledger.sent("extraction", "m2#1")
    ledger.started("extraction", "m1#1")
    ledger.started("extraction", "unknown#1")  # never sent: ignored
    _, state = ledger.queue_states()
    assert (state.stage, state.depth, state.inflight) == ("extraction", 2, 1)
    assert 0 <= state.oldest_age_s < 60
    ledger.finished("extraction", "m1#1")
    ledger.finished("extraction", "m2#1")
    assert ledger.queue_states() == [
        QueueState("discovery", 0, 0, 0.0),
        QueueState("extraction", 0, 0, 0.0),
    ]


def test_metrics_queue_collector_merges_sources_and_survives_a_failing_one() -> None:
    class Broken:
        def queue_states(self) -> list[QueueState]:
            raise ConnectionError("queue unreachable")

    class Fixed:
        def __init__(self, *states: QueueState) -> None:
            self.states = list(states)

        def queue_states(self) -> list[QueueState]:
            return self.states

    collector = QueueCollector()
    a = Fixed(QueueState("discovery", 3, 1, 12.5))
    b = Fixed(QueueState("discovery", 2, 0, 40.0), QueueState("analytics", 0, 0, 0.0))
    broken = Broken()
    for source in (a, b, broken):
        collector.watch(source)
    families = {
        f.name: {s.labels["stage"]: s.value for s in f.samples} for f in collector.collect()
    }
    assert families == {
        "quarry_queue_depth_messages": {"analytics": 0, "discovery": 5},
        "quarry_queue_inflight_messages": {"analytics": 0, "discovery": 1},
        "quarry_queue_oldest_message_age_seconds": {"analytics": 0.0, "discovery": 40.0},
    }
    del a, b  # held weakly: sources whose owner is gone are no longer read
    assert all(not f.samples for f in collector.collect())


def test_metrics_merge_and_stream_id_age() -> None:
    assert merge([QueueState("x", 1, 1, 5.0), QueueState("x", 2, 0, 3.0)]) == [
        QueueState("x", 3, 1, 5.0)
    ]
    assert age_of_id(b"1700000000000-3", 1700000012500.0) == 12.5
    assert age_of_id("1700000000000-0", 1690000000000.0) == 0.0  # clock skew never negative


def test_metrics_dispatcher_counts_retries_and_tracks_the_in_process_queue() -> None:
    async def scenario() -> list[list[QueueState]]:
        broker = InMemoryBroker()
        dispatcher = TaskiqDispatcher(broker)
        release = asyncio.Event()
        seen: list[list[QueueState]] = []
        assert dispatcher.ledger is not None
        ledger = dispatcher.ledger

        async def task(record: dict[str, Any]) -> None:
            seen.append(list(ledger.queue_states()))
            await release.wait()

        dispatcher.register("unit-stage", task)
        await broker.startup()
        token = request_id_var.set("req-42")
        try:
            await dispatcher.send("unit-stage", [{"run_id": "r1"}])
        finally:
            request_id_var.reset(token)
        await asyncio.sleep(0.01)
        seen.append(list(ledger.queue_states()))
        release.set()
        await broker.wait_all()
        record = message_record("unit-stage", {"run_id": "r1"})
        await dispatcher.resend("unit-stage", record)
        await broker.wait_all()
        seen.append(list(ledger.queue_states()))
        await broker.shutdown()
        return seen

    before = sample("quarry_queue_retries_total", stage="unit-stage")
    inside, waiting, during_retry, after = asyncio.run(scenario())
    assert (inside[0].stage, inside[0].depth, inside[0].inflight) == ("unit-stage", 1, 1)
    assert waiting[0].depth == 1
    assert (during_retry[0].depth, during_retry[0].inflight) == (1, 1)
    assert sample("quarry_queue_retries_total", stage="unit-stage") == before + 1
    assert after == [QueueState("unit-stage", 0, 0, 0.0)]


def test_metrics_request_id_rides_on_the_record_and_hostile_values_are_dropped() -> None:
    record = message_record("extraction", {"run_id": "r"}, request_id="abc-123")
    assert record["messageAttributes"] == {
        "request_id": {
            "stringValue": "abc-123",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert request_id_of_record(record) == "abc-123"
    assert message_record("extraction", {"run_id": "r"})["messageAttributes"] == {}
    assert request_id_attribute("") == {}
    for hostile in (
        {"messageAttributes": "nope"},
        {"messageAttributes": {"request_id": "flat"}},
        {"messageAttributes": {"request_id": {"stringValue": "x" * 129}}},
        {"messageAttributes": {"request_id": {"stringValue": "line\nbreak"}}},
        {"messageAttributes": {"request_id": {"stringValue": 7}}},
        {},
    ):
        assert request_id_of_record(hostile) is None


def test_metrics_invocation_records_http_series_and_concurrency() -> None:
    labels = {"function": "unit-http", "method": "GET", "route": "/api/v1/things/{thing_id}"}
    before = sample("quarry_http_requests_total", **labels, status="404")
    with invocation("unit-http", "http", "rid-1") as inv:
        assert sample("quarry_function_concurrent_executions", function="unit-http") == 1
        inv.http = HttpOutcome("GET", "/api/v1/things/{thing_id}", 404)
    assert sample("quarry_function_concurrent_executions", function="unit-http") == 0
    assert sample("quarry_http_requests_total", **labels, status="404") == before + 1
    assert sample("quarry_http_request_duration_seconds_count", **labels) >= 1
    with pytest.raises(RuntimeError), invocation("unit-http", "http", "rid-2"):
        raise RuntimeError("boom")
    assert sample("quarry_function_concurrent_executions", function="unit-http") == 0


def test_metrics_route_template_not_raw_path() -> None:
    app = FastAPI()

    @app.get("/api/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    def scope(method: str, path: str) -> dict[str, Any]:
        return {"type": "http", "method": method, "path": path, "root_path": ""}

    routes = app.router.routes
    assert route_of(routes, scope("GET", "/api/v1/things/abc123")) == "/api/v1/things/{thing_id}"
    assert route_of(routes, scope("GET", "/api/v1/elsewhere/abc123")) == "unmatched"
    assert route_of(routes, scope("DELETE", "/api/v1/things/abc123")) == "unmatched"


def test_metrics_alerts_token_refuses_everything_until_configured() -> None:
    with pytest.raises(UnavailableError) as unset:
        check_token("", "Bearer anything")
    assert "QUARRY_ALERTS_TOKEN" in unset.value.detail
    for header in (None, "", "Bearer", "Bearer ", "Basic s3cret", "Bearer s3cre", "bearer x"):
        with pytest.raises(AlertTokenError):
            check_token("s3cret", header)
    check_token("s3cret", "Bearer s3cret")
    check_token("s3cret", "bearer  s3cret ")

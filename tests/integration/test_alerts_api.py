"""The Alertmanager receiver: bearer token, alerts kept by fingerprint, firing ones listed."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from shared.config import Settings
from shared.config_load import load_settings

TOKEN = "alerts-token-for-tests-0123456789"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """With an alerts token, on the suite's database (a copy of the migrated template)."""
    return load_settings(
        {
            "QUARRY_ENV": "test",
            "QUARRY_DATABASE_URL": settings.database_url,
            "QUARRY_ALERTS_TOKEN": TOKEN,
        }
    )


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4), as it sends it."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="QuarryWorkerDown"}',
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": "quarry",
        "groupLabels": {"alertname": "QuarryWorkerDown"},
        "commonLabels": {"alertname": "QuarryWorkerDown"},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": list(alerts),
    }


def alert(fingerprint: str, status: str, instance: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {
            "alertname": "QuarryWorkerDown",
            "severity": "critical",
            "job": "worker",
            "instance": instance,
        },
        "annotations": {"summary": f"Worker {instance} is down"},
        "startsAt": "2026-11-29T01:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-29T01:05:00.000Z",
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


BEARER = {"Authorization": f"Bearer {TOKEN}"}


async def test_alerts_api_refuses_missing_and_wrong_tokens(client: httpx.AsyncClient) -> None:
    body = notification(alert("a1b2c3d4e5f60718", "firing", "127.0.0.1:4001"))
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = await client.post("/api/v1/alerts", json=body, headers=headers)
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "bearer" in refused.json()["detail"].lower()
    assert (await client.get("/api/v1/alerts")).json() == {"items": []}


async def test_alerts_api_keeps_firing_alerts_until_resolved(client: httpx.AsyncClient) -> None:
    first = notification(
        alert("a1b2c3d4e5f60718", "firing", "127.0.0.1:4001"),
        alert("0f0e0d0c0b0a0908", "resolved", "127.0.0.1:4002"),
    )
    received = await client.post("/api/v1/alerts", json=first, headers=BEARER)
    assert received.status_code == 200, received.text
    assert received.json() == {"received": 2, "firing": 1}
    again = await client.post("/api/v1/alerts", json=first, headers=BEARER)  # a repeat
    assert again.json() == {"received": 2, "firing": 1}
    items = (await client.get("/api/v1/alerts")).json()["items"]
    assert len(items) == 1
    shown = items[0]
    assert shown["fingerprint"] == "a1b2c3d4e5f60718"
    assert shown["name"] == "QuarryWorkerDown"
    assert shown["severity"] == "critical"
    assert shown["summary"] == "Worker 127.0.0.1:4001 is down"
    assert shown["labels"]["instance"] == "127.0.0.1:4001"
    assert shown["ends_at"] is None
    assert shown["starts_at"].startswith("2026-11-29T01:00:00")
    resolved = notification(alert("a1b2c3d4e5f60718", "resolved", "127.0.0.1:4001"))
    assert (await client.post("/api/v1/alerts", json=resolved, headers=BEARER)).json() == {
        "received": 1,
        "firing": 0,
    }
    assert (await client.get("/api/v1/alerts")).json() == {"items": []}


async def test_alerts_api_refuses_malformed_notifications(client: httpx.AsyncClient) -> None:
    malformed = [
        {"version": "4", "status": "firing"},  # no alerts
        notification({**alert("abc", "firing", "x"), "fingerprint": "../../etc"}),
        notification({**alert("abc", "burning", "x")}),
        notification(*[alert(f"f{i:04d}", "firing", "x") for i in range(1001)]),
        {"version": "4", "status": "firing", "alerts": [{"status": "firing"}]},
    ]
    for body in malformed:
        response = await client.post("/api/v1/alerts", json=body, headers=BEARER)
        assert response.status_code == 422, response.text
        assert response.json()["errors"]
    assert (await client.get("/api/v1/alerts")).json() == {"items": []}


async def test_alerts_page_shows_firing_alerts_as_text(client: httpx.AsyncClient) -> None:
    empty = await client.get("/alerts")
    assert empty.status_code == 200, empty.text
    assert "No alert is firing" in empty.text
    hostile = alert("deadbeef00000001", "firing", "<script>window.pwned=1</script>")
    hostile["annotations"]["summary"] = "<img src=x onerror=alert(1)>"
    hostile["annotations"]["description"] = "a <b>bold</b> claim"
    sent = await client.post("/api/v1/alerts", json=notification(hostile), headers=BEARER)
    assert sent.status_code == 200, sent.text
    shown = await client.get("/alerts")
    assert shown.status_code == 200
    assert "QuarryWorkerDown" in shown.text
    assert "<script>window.pwned" not in shown.text
    assert "<img src=x" not in shown.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown.text
    assert "a &lt;b&gt;bold&lt;/b&gt; claim" in shown.text
    assert 'href="/alerts" aria-current="page"' in shown.text


async def test_alerts_api_checks_the_token_before_reading_the_body(
    client: httpx.AsyncClient,
) -> None:
    huge = notification(*[alert(f"f{i:04d}", "firing", "x") for i in range(1001)])
    for body in (b"{not json", json.dumps({"version": "4"}).encode(), json.dumps(huge).encode()):
        refused = await client.post(
            "/api/v1/alerts", content=body, headers={"content-type": "application/json"}
        )
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "bearer" in refused.json()["detail"].lower()
    parsed = await client.post("/api/v1/alerts", content=b"{not json", headers=BEARER)
    assert parsed.status_code == 422  # with the token, the body is read and judged

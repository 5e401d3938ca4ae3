"""API keys on: the scope matrix over every operation of the OpenAPI document, key
lifecycle, keys kept out of logs, rate limits and body limits."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from pydantic import SecretStr

from emulator.openapi import merge
from emulator.platform import Embedded
from shared.auth.middleware import PUBLIC_PATHS, needed_scope
from shared.config import Settings

BOOT = "qk_bootstrap-key-for-the-auth-tests-0123456789"
SCOPES = ("read", "write", "admin")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"api_auth": "on", "bootstrap_api_key": SecretStr(BOOT), "rate_limit_per_s": 0.0}
    )


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def make_key(client: httpx.AsyncClient, scope: str) -> str:
    created = await client.post(
        "/api/v1/keys", json={"name": f"{scope} key", "scope": scope}, headers=bearer(BOOT)
    )
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def operations(platform: Embedded) -> list[tuple[str, str, str]]:
    """(method, path template, needed scope) for every operation the OpenAPI document has."""
    document = merge(platform.table)
    declared: dict[tuple[str, str], Any] = {}
    for handler in platform.gateway.handlers.values():
        app = getattr(handler, "app", None)
        for route in getattr(app, "routes", []):
            if isinstance(route, APIRoute):
                for method in route.methods:
                    declared[(method, route.path)] = route.endpoint
    ops = []
    for path, item in document["paths"].items():
        for method in item:
            endpoint = declared[(method.upper(), path)]
            scope = "public" if path in PUBLIC_PATHS else needed_scope(method.upper(), endpoint)
            ops.append((method.upper(), path, scope))
    return ops


async def test_auth_scope_matrix_over_every_operation(
    platform: Embedded, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keys = {scope: await make_key(client, scope) for scope in SCOPES}
    ops = operations(platform)
    scopes = {(m, p): s for m, p, s in ops}
    # the contract, pinned for the operations this work added and the core ones
    assert scopes[("GET", "/api/v1/health")] == "public"
    assert scopes[("POST", "/api/v1/webhooks/{source_id}")] == "public"
    assert scopes[("GET", "/api/v1/runs")] == "read"
    assert scopes[("POST", "/api/v1/runs")] == "write"
    assert scopes[("POST", "/api/v1/webhook-deliveries/{delivery_id}/redeliver")] == "write"
    for admin in (
        ("POST", "/api/v1/keys"),
        ("GET", "/api/v1/keys"),
        ("DELETE", "/api/v1/keys/{key_id}"),
        ("PUT", "/api/v1/sources/{source_id}/webhook"),
        ("POST", "/api/v1/webhook-subscriptions"),
    ):
        assert scopes[admin] == "admin", admin
    failures = []
    for method, template, needed in ops:
        path = re.sub(r"\{[^}]+\}", "x", template)
        body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        for who in (None, *SCOPES):
            headers = bearer(keys[who]) if who else {}
            status = (await client.request(method, path, headers=headers, **body)).status_code
            if needed == "public":
                expected_refusal = None
            elif who is None:
                expected_refusal = 401
            elif SCOPES.index(who) < SCOPES.index(needed):
                expected_refusal = 403
            else:
                expected_refusal = None
            refused = status if status in (401, 403) else None
            if refused != expected_refusal:
                failures.append(f"{method} {template} as {who}: {status}, needs {needed}")
    assert failures == []
    assert len(ops) >= 30
    for key in (*keys.values(), BOOT):
        assert key not in caplog.text  # keys never reach the logs


async def test_auth_key_lifecycle_shown_once_and_revocable(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/v1/sources")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert "needs an API key" in anonymous.json()["detail"]
    created = await client.post(
        "/api/v1/keys", json={"name": "ci", "scope": "read"}, headers=bearer(BOOT)
    )
    key, key_id = created.json()["key"], created.json()["id"]
    assert key.startswith(created.json()["prefix"])
    listed = await client.get("/api/v1/keys", headers=bearer(BOOT))
    assert key not in listed.text
    assert [k["id"] for k in listed.json()["items"]] == [key_id]
    assert (await client.get("/api/v1/sources", headers={"x-api-key": key})).status_code == 200
    write = await client.post("/api/v1/sources", json={}, headers=bearer(key))
    assert write.status_code == 403
    assert "scope `read`" in write.json()["detail"]
    assert (await client.delete(f"/api/v1/keys/{key_id}", headers=bearer(BOOT))).status_code == 204
    revoked = await client.get("/api/v1/sources", headers=bearer(key))
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]
    assert (await client.get("/api/v1/sources", headers=bearer(key + "x"))).status_code == 401
    assert (await client.get("/api/v1/health")).status_code == 200  # public
    assert (await client.get("/metrics")).status_code == 200  # not an API route


async def test_auth_rate_limit_is_429_with_retry_after_per_key(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    one, two = await make_key(client, "read"), await make_key(client, "read")
    platform.runtime.settings = platform.settings.model_copy(
        update={"rate_limit_per_s": 0.5, "rate_limit_burst": 2}
    )
    answers = [await client.get("/api/v1/sources", headers=bearer(one)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 1 <= int(answers[2].headers["retry-after"]) <= 2
    assert answers[2].headers["content-type"] == "application/problem+json"
    assert "rate limit" in answers[2].json()["detail"]
    assert (await client.get("/api/v1/sources", headers=bearer(two))).status_code == 200


async def test_auth_oversized_bodies_are_413_on_both_gateway_paths(
    platform: Embedded, client: httpx.AsyncClient, direct: httpx.AsyncClient
) -> None:
    platform.runtime.settings = platform.settings.model_copy(update={"max_body_bytes": 1024})
    big = {"name": "x" * 2000, "kind": "urls", "urls": []}
    for path in (client, direct):
        answer = await path.post("/api/v1/sources", json=big, headers=bearer(BOOT))
        assert answer.status_code == 413
        assert "limited to 1024 bytes" in answer.json()["detail"]
    small = {"name": "ok", "kind": "urls", "urls": ["https://example.org/"]}
    for path in (client, direct):
        assert (
            await path.post("/api/v1/sources", json=small, headers=bearer(BOOT))
        ).status_code == 201


def from_address(platform: Embedded, address: str) -> httpx.AsyncClient:
    """A client calling from `address`: rate limits are kept per address, process-wide."""
    transport = httpx.ASGITransport(app=platform.gateway, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://quarry.test")


async def test_auth_invalid_keys_are_rate_limited_and_cached_negatively(
    platform: Embedded, caplog: pytest.LogCaptureFixture
) -> None:
    platform.runtime.settings = platform.settings.model_copy(
        update={"rate_limit_per_s": 0.1, "rate_limit_burst": 6}
    )
    bogus = [f"qk_bogus-key-{i:02d}-0123456789abcdefghijklmnop" for i in range(27)]
    client = from_address(platform, "198.51.100.7")
    with caplog.at_level(logging.DEBUG, logger="quarry.sql"):
        same = [await client.get("/api/v1/sources", headers=bearer(bogus[0])) for _ in range(3)]
        others = [await client.get("/api/v1/sources", headers=bearer(k)) for k in bogus[1:]]
    await client.aclose()
    lookups = [r for r in caplog.records if "FROM api_keys" in r.getMessage()]
    assert [a.status_code for a in same] == [401, 401, 401]
    statuses = [a.status_code for a in others]
    assert statuses == [401] * 3 + [429] * 23, statuses
    assert others[-1].headers["content-type"] == "application/problem+json"
    assert int(others[-1].headers["retry-after"]) >= 1
    assert len(lookups) == 4  # one per distinct key until the address ran out of tries


async def test_auth_health_is_rate_limited_per_address(platform: Embedded) -> None:
    platform.runtime.settings = platform.settings.model_copy(
        update={"rate_limit_per_s": 0.1, "rate_limit_burst": 3}
    )
    async with from_address(platform, "198.51.100.8") as client:
        answers = [(await client.get("/api/v1/health")).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    async with from_address(platform, "198.51.100.9") as other:
        assert (await other.get("/api/v1/health")).status_code == 200

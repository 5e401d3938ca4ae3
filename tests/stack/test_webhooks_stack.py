"""Webhooks and API keys in the stack: auth on behind nginx, one run per delivery across API
instances on Postgres, rate-limit buckets shared through Redis, nginx's body limit."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from shared.ratelimit import RedisRateLimiter
from shared.webhooks.signature import sign_standard, verify_standard
from tests.stack.conftest import SlowSite, Stack, wait_for

pytestmark = pytest.mark.stack
SECRET = "whsec_" + "c3RhY2stdGVzdC1zaWduaW5nLWtleS0wMTIzNDU2Nzg5"


def test_webhooks_stack_auth_is_on_and_health_is_public(stack: Stack) -> None:
    with httpx.Client(base_url=stack.entry, timeout=30, trust_env=False) as anonymous:
        refused = anonymous.get("/api/v1/sources")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert anonymous.get("/api/v1/health").status_code == 200
    with stack.client() as admin:
        made = admin.post("/api/v1/keys", json={"name": "reader", "scope": "read"})
        assert made.status_code == 201, made.text
        reader = {"authorization": f"Bearer {made.json()['key']}"}
        assert admin.get("/api/v1/sources", headers=reader).status_code == 200
        assert admin.post("/api/v1/sources", json={}, headers=reader).status_code == 403


def test_webhooks_stack_ten_copies_at_once_start_one_run(stack: Stack) -> None:
    with stack.client() as admin:
        source = admin.post(
            "/api/v1/sources", json={"name": "hook", "kind": "urls", "urls": [stack.demo + "/"]}
        ).json()["id"]
        config = {"scheme": "standard", "secrets": [SECRET]}
        assert admin.put(f"/api/v1/sources/{source}/webhook", json=config).status_code == 200
    body = b'{"type": "entry.published"}'
    stamp = int(time.time())
    headers = {
        "webhook-id": "msg_stack_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard(SECRET, "msg_stack_1", stamp, body),
    }

    def deliver(_: int) -> httpx.Response:  # no API key: the signature is the credential
        with httpx.Client(base_url=stack.entry, timeout=30, trust_env=False) as sender:
            return sender.post(f"/api/v1/webhooks/{source}", content=body, headers=headers)

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(deliver, range(10)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(202) == 1, codes
    assert set(codes) <= {200, 202, 409}, codes
    assert len({a.json()["run_id"] for a in answers if a.status_code < 300}) == 1
    with stack.client() as admin:
        runs = admin.get("/api/v1/runs", params={"source_id": source}).json()["items"]
        assert [r["trigger"] for r in runs] == ["webhook"]


def test_webhooks_stack_rate_buckets_are_shared_through_redis(stack: Stack) -> None:
    url = stack.service("redis-cache")["url"]

    async def take_from_two_instances() -> list[bool]:
        one, two = RedisRateLimiter(url), RedisRateLimiter(url)  # as two API processes
        key = f"test:{time.time_ns()}"
        try:
            return [
                (await limiter.take(key, rate=0.1, burst=2)).allowed
                for limiter in (one, two, one, two)
            ]
        finally:
            for limiter in (one, two):
                await limiter.close()

    assert asyncio.run(take_from_two_instances()) == [True, True, False, False]


def test_webhooks_stack_nginx_refuses_bodies_over_the_limit(stack: Stack) -> None:
    with stack.client() as admin:
        big = admin.post("/api/v1/webhooks/any", content=b"x" * (2 * 1024 * 1024))
        assert big.status_code == 413
        assert big.json()["status"] == 413


def test_webhooks_stack_subscriber_gets_the_signed_run_event(
    stack: Stack, slow_site: SlowSite
) -> None:
    with stack.client() as admin:
        missing = {"name": "gone", "kind": "urls", "urls": [stack.demo + "/missing-hook.html"]}
        source = admin.post("/api/v1/sources", json=missing).json()["id"]
        hook = {"source_id": source, "url": slow_site.base + "/hooks/stack"}
        sub = admin.post("/api/v1/webhook-subscriptions", json=hook)
        assert sub.status_code == 201, sub.text
        run_id = admin.post("/api/v1/runs", json={"source_id": source}).json()["id"]

        def received() -> list[tuple[str, dict[str, str], bytes]]:
            return [p for p in slow_site.posts if p[0] == "/hooks/stack"]

        [(_, headers, body)] = wait_for("the run event at the subscriber", received, 90)
        verify_standard(headers, body, [sub.json()["secret"]], now=time.time())
        event = json.loads(body)
        assert (event["type"], event["data"]["run_id"]) == ("run.failed", run_id)
        log = f"/api/v1/webhook-subscriptions/{sub.json()['id']}/deliveries"

        def logged() -> list[tuple[str, int]]:
            items = admin.get(log).json()["items"]
            return [(d["state"], d["attempts"]) for d in items if d["state"] != "pending"]

        assert wait_for("the delivery in the log", logged, 60) == [("delivered", 1)]

"""API keys and the gate, without I/O: key format, hashing, presentation, scopes, limits."""

from __future__ import annotations

import hashlib

import pytest

from shared.auth.keys import Principal, generate, hash_key, is_enabled, presented
from shared.auth.middleware import client_address, needed_scope, requires
from shared.config import Settings
from shared.ratelimit import Decision, MemoryRateLimiter, refill


def test_auth_keys_are_high_entropy_and_stored_as_sha256() -> None:
    keys = {generate() for _ in range(50)}
    assert len(keys) == 50
    key = keys.pop()
    assert key.startswith("qk_")
    assert len(key) == 46
    assert hash_key(key) == hashlib.sha256(key.encode()).hexdigest()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"authorization", b"Bearer qk_abc")], "qk_abc"),
        ([(b"authorization", b"bearer   qk_abc  ")], "qk_abc"),
        ([(b"x-api-key", b"qk_xyz")], "qk_xyz"),
        ([(b"authorization", b"Basic dXNlcjpwYXNz")], None),
        ([(b"authorization", b"Bearer ")], None),
        ([], None),
    ],
)
def test_auth_presented_key_from_bearer_or_header(
    headers: list[tuple[bytes, bytes]], expected: str | None
) -> None:
    assert presented(headers) == expected


def test_auth_scopes_are_ordered() -> None:
    read, write, admin = (Principal("k", s) for s in ("read", "write", "admin"))  # type: ignore[arg-type]
    assert [read.allows(s) for s in ("read", "write", "admin")] == [True, False, False]
    assert [write.allows(s) for s in ("read", "write", "admin")] == [True, True, False]
    assert [admin.allows(s) for s in ("read", "write", "admin")] == [True, True, True]


@pytest.mark.parametrize(
    ("env", "mode", "enabled"),
    [
        ("dev", "auto", False),
        ("test", "auto", False),
        ("stack", "auto", True),
        ("lambda", "auto", True),
        ("dev", "on", True),
        ("stack", "off", False),
    ],
)
def test_auth_is_off_in_dev_unless_configured(env: str, mode: str, enabled: bool) -> None:
    guarded = {"secret_key": "k" * 32, "insecure_allow": ("open-dashboard",)}
    settings = Settings(env=env, api_auth=mode, **guarded)  # type: ignore[arg-type]
    assert is_enabled(settings) is enabled


def test_auth_route_scope_defaults_by_method_and_marks_win() -> None:
    def plain() -> None: ...

    @requires("admin")
    def marked() -> None: ...

    assert needed_scope("GET", plain) == "read"
    assert needed_scope("POST", plain) == "write"
    assert needed_scope("DELETE", plain) == "write"
    assert needed_scope("GET", marked) == "admin"


def test_auth_client_address_trusts_forwarded_for_only_from_trusted_proxies() -> None:
    forwarded = [(b"x-forwarded-for", b"6.6.6.6, 1.2.3.4")]
    behind_nginx = {"client": ("127.0.0.1", 5000), "headers": forwarded}
    assert client_address(behind_nginx, Settings()) == "1.2.3.4"
    direct = {"client": ("10.0.0.9", 5000), "headers": forwarded}
    assert client_address(direct, Settings()) == "10.0.0.9"
    compose = Settings(trusted_proxies=("172.16.0.0/12",))
    assert client_address({**direct, "client": ("172.18.0.5", 1)}, compose) == "1.2.3.4"


def test_auth_bootstrap_key_must_be_long() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        Settings(bootstrap_api_key="short")  # type: ignore[arg-type]


async def test_ratelimit_bucket_allows_the_burst_then_says_when_to_retry() -> None:
    now = [100.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])

    async def take() -> Decision:
        return await limiter.take("ip:1", rate=2.0, burst=3)

    decisions = [await take() for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[3].retry_after_s == pytest.approx(0.5)
    assert decisions[3].retry_after == "1"
    now[0] += 0.5  # one token back at 2 per second
    assert (await take()).allowed
    assert not (await take()).allowed
    assert (await limiter.take("ip:2", rate=2.0, burst=3)).allowed  # buckets are per key


def test_ratelimit_refill_is_capped_at_the_burst() -> None:
    assert refill(0.0, 0.0, 10.0, rate=1.0, burst=5) == 5.0
    assert refill(1.0, 0.0, 0.5, rate=2.0, burst=5) == 2.0
    assert refill(3.0, 5.0, 4.0, rate=2.0, burst=5) == 3.0  # a clock going back adds nothing

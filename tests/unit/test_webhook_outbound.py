"""Pure parts of webhook delivery: the retry schedule, what the inbox keeps of headers,
and the secrets' round trip through the vault."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr

from shared.errors import ConfigError
from shared.webhooks import vault
from shared.webhooks.inbox import stored_headers
from shared.webhooks.outbound import MAX_ATTEMPTS, backoff
from shared.webhooks.sender import Attempt
from shared.webhooks.signature import standard_key
from shared.webhooks.subscriptions import new_secret


def test_webhook_outbound_backoff_doubles_from_ten_seconds() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, MAX_ATTEMPTS)]
    assert waits == [10, 20, 40, 80, 160, 320, 640]
    assert sum(waits, 0.0) < timedelta(hours=1).total_seconds()


def test_webhook_outbound_only_2xx_is_delivered() -> None:
    assert Attempt(204, None).ok
    assert not Attempt(302, "subscriber answered 302").ok
    assert not Attempt(None, "refused").ok


def test_webhook_inbox_keeps_headers_without_credentials() -> None:
    kept = stored_headers(
        {
            "Authorization": "Bearer qk_secret",
            "Cookie": "session=abc",
            "X-Api-Key": "qk_other",
            "X-Shopify-Access-Token": "tok",
            "X-Client-Secret": "s",
            "Webhook-Signature": "v1,abc",
            "Content-Type": "application/json",
            "X-Long": "y" * 5000,
        }
    )
    assert kept == {
        "webhook-signature": "v1,abc",
        "content-type": "application/json",
        "x-long": "y" * 1024,
    }


def test_webhook_secrets_round_trip_and_a_new_secret_key_cannot_read_them() -> None:
    sealed = vault.seal(SecretStr("k1"), ["one", "two"])
    assert "one" not in sealed
    assert vault.unseal(SecretStr("k1"), sealed) == ["one", "two"]
    with pytest.raises(ConfigError, match="QUARRY_SECRET_KEY changed"):
        vault.unseal(SecretStr("k2"), sealed)


def test_webhook_subscription_secrets_are_standard_and_random() -> None:
    one, two = new_secret(), new_secret()
    assert one != two
    assert len(standard_key(one)) == 32

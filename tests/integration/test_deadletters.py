"""A message that always fails is attempted maxReceiveCount times, then dead-lettered."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY

from emulator.platform import Embedded
from tests.integration.conftest import poll


def invalid_attempts() -> float:
    value = REGISTRY.get_sample_value(
        "quarry_function_invocations_total",
        {"function": "extraction", "trigger": "sqs", "outcome": "invalid"},
    )
    return value or 0.0


async def test_deadletters_poison_message_after_max_receive(
    platform: Embedded, client: httpx.AsyncClient
) -> None:
    before = invalid_attempts()
    max_receive = platform.table.functions["extraction"].max_receive
    assert max_receive == 5  # from the queue's RedrivePolicy in serverless.yml
    await platform.runtime.dispatcher.send("extraction", [{"run_id": "r1", "poison": True}])

    async def listed() -> list[dict[str, object]]:
        items: list[dict[str, object]] = (await client.get("/api/v1/dead-letters")).json()["items"]
        return items

    letters = await poll("the poison message to be dead-lettered", listed)
    await platform.idle()
    assert invalid_attempts() - before == max_receive
    assert len(letters) == 1
    letter = letters[0]
    assert letter["stage"] == "extraction"
    assert letter["attempts"] == max_receive
    assert letter["body"] == {"run_id": "r1", "poison": True}
    assert "not a valid ExtractDocument message" in str(letter["error"])

    replayed = await client.post(f"/api/v1/dead-letters/{letter['id']}/replay")
    assert replayed.status_code == 202
    assert replayed.json()["replayed_at"] is not None
    again = await client.post(f"/api/v1/dead-letters/{letter['id']}/replay")
    assert again.status_code == 409

    async def buried_twice() -> bool:
        return len(await listed()) == 2

    await poll("the replayed poison message to be dead-lettered again", buried_twice)
    await platform.idle()
    assert invalid_attempts() - before == 2 * max_receive
    assert (await client.delete(f"/api/v1/dead-letters/{letter['id']}")).status_code == 204
    assert len(await listed()) == 1

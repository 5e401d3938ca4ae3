"""Property-based fuzz of the whole API from its OpenAPI document (schemathesis), in
process against the gateway: derandomised, a few examples per operation, and no answer
may be a server error."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case

from emulator.gateway import Gateway
from emulator.platform import embedded
from shared.config_load import load_settings
from tests.conftest import ROOT

EXAMPLES = 10


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The embedded platform on a loop of its own thread: the fuzzer calls synchronously,
    and stage dispatches hop onto this loop as they would from any API thread."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    cfg = load_settings(
        {
            "QUARRY_ENV": "test",
            "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/quarry.db",
            "QUARRY_SECRET_KEY": "fuzz-secret-0123456789-0123456789",
            "QUARRY_RATE_LIMIT_PER_S": "0",
            "QUARRY_ALERTS_TOKEN": "fuzz-alerts-token",  # unset, alerts answer 503 on purpose
        }
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    context = embedded(cfg, ROOT / "serverless.yml", background=False)
    platform = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result(120)
    try:
        yield platform.gateway
    finally:
        asyncio.run_coroutine_threadsafe(context.__aexit__(None, None, None), loop).result(120)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@pytest.fixture(scope="module")
def api(gateway: Gateway) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_asgi("/api/openapi.json", gateway)


def test_api_fuzz_finds_no_server_error(api: schemathesis.schemas.BaseSchema) -> None:
    # schemathesis's own pytest integration does not run under pytest 9 yet, so each
    # operation's strategy is driven by Hypothesis here, with the same settings.
    failures: list[str] = []
    operations = [result.ok() for result in api.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, unshrunk
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: Case) -> None:
            response = case.call()
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} answered {response.status_code}: "
                f"{response.text[:300]}\n{case.as_curl_command()}"
            )

        try:
            no_server_error()
        except AssertionError as exc:
            failures.append(str(exc))
    assert len(operations) >= 30
    assert failures == []

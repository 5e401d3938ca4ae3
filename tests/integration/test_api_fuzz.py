"""Property-based fuzz of the whole API from its OpenAPI document (schemathesis), over HTTP
against the embedded gateway: derandomised, a few examples per operation, and no answer
may be a server error."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case

from emulator.platform import embedded
from emulator.stack.services.ports import free_port
from shared.config_load import load_settings
from tests.conftest import ROOT

EXAMPLES = 10


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded platform's gateway served by uvicorn on a loop of its own thread, as
    `quarry dev` serves it: the fuzzer calls over HTTP, so every invocation runs on that one
    loop (and its one connection pool), as in the emulator."""
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
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(platform.gateway, host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.run_coroutine_threadsafe(server.serve(), loop)
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert not serving.done(), "uvicorn stopped before it served the gateway"
            assert time.monotonic() < deadline, "uvicorn did not start serving within 60 s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        serving.result(60)
        asyncio.run_coroutine_threadsafe(context.__aexit__(None, None, None), loop).result(120)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@pytest.fixture(scope="module")
def api(base_url: str) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_url(f"{base_url}/api/openapi.json")


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

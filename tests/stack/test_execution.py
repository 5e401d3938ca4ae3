"""Execution environments as Lambda runs them: the Lambda service (`python -m
emulator.execution.service`) running small packaged functions under awslambdaric through the
Runtime API, answering through the Invoke API and, behind the gateway, over HTTP exactly as
Lambda and API Gateway answer: an import error, an exception, a timeout, memory past
memorySize, reserved concurrency, and a warm environment reused."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.artefacts.runtime_env import interpreter, runtime_env
from emulator.artefacts.stack import CACHE
from emulator.aws.credentials import Keys, role_profile, write_profiles
from emulator.execution.client import remote_handlers
from emulator.execution.spec import ServiceSpec
from emulator.gateway import Gateway
from emulator.stack.services.ports import free_port
from emulator.table import load_table
from tests.conftest import ROOT
from tests.stack.conftest import wait_for

pytestmark = pytest.mark.stack
SOURCES = {
    "ok": (
        "import json, os, sys\n"
        "def handler(event, context):\n"
        "    body = {'pid': os.getpid(), 'sys_path': sys.path,\n"
        "            'remaining_ms': context.get_remaining_time_in_millis()}\n"
        "    return {'statusCode': 200, 'headers': {'content-type': 'application/json'},\n"
        "            'body': json.dumps(body)}\n"
    ),
    "broken": "import quarry_no_such_module\n\ndef handler(event, context):\n    return {}\n",
    "boom": "def handler(event, context):\n    raise ValueError('boom')\n",
    "slow": (
        "import os, time\n"
        "def handler(event, context):\n"
        "    time.sleep(float(event.get('sleep', 5)))\n"
        "    return {'statusCode': 200, 'body': str(os.getpid())}\n"
    ),
    "hungry": (
        "import time\n"
        "def handler(event, context):\n"
        "    held = b'x' * (300 * 1024 * 1024)\n"
        "    time.sleep(2)\n"
        "    return len(held)\n"
    ),
    "single": (
        "import time\ndef handler(event, context):\n    time.sleep(1.5)\n    return 'done'\n"
    ),
}
LIMITS = {  # timeout s, memorySize MB, reservedConcurrency
    "ok": (5, 256, None),
    "broken": (5, 256, None),
    "boom": (5, 256, None),
    "slow": (1, 256, None),
    "hungry": (10, 128, None),
    "single": (10, 256, 1),
}
TABLE = """
service: quarry
provider: {name: aws, runtime: python3.11}
functions:
  ok: {handler: ok.handler, timeout: 5, events: [{httpApi: "GET /ok"}]}
  broken: {handler: broken.handler, timeout: 5, events: [{httpApi: "GET /broken"}]}
  slow: {handler: slow.handler, timeout: 1, events: [{httpApi: "GET /slow"}]}
"""


def _template() -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for name, (timeout, memory, reserved) in LIMITS.items():
        props: dict[str, Any] = {
            "FunctionName": f"quarry-dev-{name}",
            "Handler": f"{name}.handler",
            "Runtime": "python3.11",
            "Timeout": timeout,
            "MemorySize": memory,
            "Code": {"S3Key": f"serverless/quarry/dev/1/{name}.zip"},
            "Role": {"Fn::GetAtt": ["TestRole", "Arn"]},
            "Environment": {"Variables": {"QUARRY_ENV": "lambda"}},
        }
        if reserved is not None:
            props["ReservedConcurrentExecutions"] = reserved
        resources[f"{name.capitalize()}LambdaFunction"] = {
            "Type": "AWS::Lambda::Function",
            "Properties": props,
        }
    return {"Resources": resources}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The Lambda service on a free port, running the functions above from a package."""
    base = tmp_path_factory.mktemp("execution")
    package = base / "package"
    for name, source in SOURCES.items():
        task = package / "unpacked" / name
        task.mkdir(parents=True)
        (task / f"{name}.py").write_text(source)
    (package / "cloudformation-template-update-stack.json").write_text(json.dumps(_template()))
    credentials = base / "credentials"
    write_profiles(credentials, {role_profile(n): Keys("ASIATEST", "secret", "t") for n in SOURCES})
    spec = ServiceSpec(
        package=package,
        service="quarry",
        stage="dev",
        runtime_dir=runtime_env(CACHE),
        python=interpreter(),
        endpoint="127.0.0.1:9",  # nothing here calls AWS
        credentials=credentials,
        logs=base / "logs",
    )
    spec.save(base / "lambda.json")
    port = free_port()
    with (base / "service.log").open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "emulator.execution.service",
                str(port),
                str(base / "lambda.json"),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            "every function to initialise (or fail to)",
            lambda: httpx.get(url + "/quarry/init").status_code == 200,
            180,
        )
        yield url, base
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _invoke(url: str, name: str, event: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.post(
        f"{url}/2015-03-31/functions/{name}/invocations", json=event or {}, timeout=120
    )


def test_execution_ok_runs_from_its_package_and_is_reused_while_warm(
    service: tuple[str, Path],
) -> None:
    url, base = service
    first, second = _invoke(url, "ok"), _invoke(url, "ok")
    assert first.status_code == second.status_code == 200
    assert "x-amz-function-error" not in first.headers
    one, two = (json.loads(r.json()["body"]) for r in (first, second))
    assert one["pid"] == two["pid"]  # the environment initialised at start-up, reused
    assert one["sys_path"][0] == str(base / "package" / "unpacked" / "ok")
    assert not [p for p in one["sys_path"] if "site-packages" in p or ".venv" in p]
    assert 0 < one["remaining_ms"] <= 5000
    metrics = httpx.get(url + "/metrics").text
    assert 'quarry_function_cold_starts_total{function="ok"} 1.0' in metrics


def test_execution_import_error_is_runtime_import_module_error(
    service: tuple[str, Path],
) -> None:
    url, base = service
    init = httpx.get(url + "/quarry/init").json()["functions"]
    assert init["broken"]["ok"] is False
    assert init["broken"]["errorType"] == "Runtime.ImportModuleError"
    assert all(r["ok"] for name, r in init.items() if name != "broken")
    answer = _invoke(url, "broken")
    assert answer.status_code == 200
    assert answer.headers["x-amz-function-error"] == "Unhandled"
    error = answer.json()
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == (
        "Unable to import module 'broken': No module named 'quarry_no_such_module'"
    )
    log = (base / "logs" / "lambda-broken.log").read_text()
    assert "Runtime.ImportModuleError" in log
    assert "No module named 'quarry_no_such_module'" in log


def test_execution_exception_is_the_functions_error(service: tuple[str, Path]) -> None:
    url, _ = service
    answer = _invoke(url, "boom")
    assert answer.headers["x-amz-function-error"] == "Unhandled"
    assert answer.json()["errorType"] == "ValueError"
    assert answer.json()["errorMessage"] == "boom"
    assert answer.json()["stackTrace"]


def test_execution_timeout_is_lambdas_and_replaces_the_environment(
    service: tuple[str, Path],
) -> None:
    url, base = service
    timed_out = _invoke(url, "slow", {"sleep": 5})
    assert timed_out.headers["x-amz-function-error"] == "Unhandled"
    error = timed_out.json()
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    assert "Task timed out after 1.00 seconds" in (base / "logs" / "lambda-slow.log").read_text()
    before = {e["pid"] for e in httpx.get(url + "/quarry/environments").json()["environments"]}
    quick = _invoke(url, "slow", {"sleep": 0})
    assert "x-amz-function-error" not in quick.headers
    assert int(quick.json()["body"]) not in before  # a new environment: a cold start
    metrics = httpx.get(url + "/metrics").text
    assert 'quarry_function_timeouts_total{function="slow"} 1.0' in metrics


def test_execution_memory_past_memory_size_kills_the_environment(
    service: tuple[str, Path],
) -> None:
    url, _ = service
    answer = _invoke(url, "hungry")
    assert answer.headers["x-amz-function-error"] == "Unhandled"
    assert answer.json()["errorType"] == "Runtime.ExitError"
    assert "signal: killed" in answer.json()["errorMessage"]


def test_execution_reserved_concurrency_throttles_past_it(service: tuple[str, Path]) -> None:
    url, _ = service

    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=120) as client:
            calls = [
                client.post(f"{url}/2015-03-31/functions/single/invocations", json={})
                for _ in range(2)
            ]
            return list(await asyncio.gather(*calls))

    answers = asyncio.run(both())
    assert sorted(a.status_code for a in answers) == [200, 429]
    throttled = next(a for a in answers if a.status_code == 429)
    assert throttled.headers["x-amzn-errortype"] == "TooManyRequestsException"


def test_execution_http_errors_are_502_and_504_problem_documents(
    service: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = service
    (tmp_path / "serverless.yml").write_text(TABLE)
    table = load_table(tmp_path / "serverless.yml")
    handlers = remote_handlers(url, {fn.name: fn.timeout for fn in table.http()}, "http")
    gateway = Gateway(table, handlers=handlers, max_body_bytes=1024)

    async def get(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://q.test") as client:
            return await client.get(path)

    try:
        ok, broken, slow = (asyncio.run(get(p)) for p in ("/ok", "/broken", "/slow"))
    finally:
        gateway.executor.shutdown(wait=True)
        for handler in handlers.values():
            handler.close()
    assert ok.status_code == 200
    assert broken.status_code == 502
    assert broken.headers["content-type"] == "application/problem+json"
    assert broken.json()["detail"] == (
        "function broken failed (Runtime.ImportModuleError); see its logs"
    )
    assert slow.status_code == 504
    assert slow.headers["content-type"] == "application/problem+json"
    assert slow.json()["detail"] == "function slow timed out after 1.00 seconds"

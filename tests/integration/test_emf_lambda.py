"""In Lambda (AWS_LAMBDA_FUNCTION_NAME set, no emulator), each invocation writes one EMF line on
stdout carrying the same metric names Prometheus scrapes elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.integration.lambda_script import prelude

SCRIPT = (
    prelude("emf-test-secret-key-0123456789abcdefghij")
    + """event["headers"]["x-request-id"] = "lambda-trace-7"
for _ in range(2):
    result = handler(event, LambdaContext("health"))
    print("STATUS", result["statusCode"], file=sys.stderr)
"""
)


def test_emf_lines_from_a_handler_invoked_lambda_style(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "quarry-dev-health",
    }
    url = f"sqlite+aiosqlite:///{tmp_path}/lambda.db"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("STATUS 200") == 2, proc.stderr[-3000:]
    lines: list[dict[str, Any]] = [
        json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"_aws"')
    ]
    assert len(lines) == 2, proc.stdout
    first, second = lines
    for doc in lines:
        metrics = [m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
        assert "quarry_function_invocations_total" in metrics
        assert "quarry_http_requests_total" in metrics
        assert doc["function"] == "health"
        assert doc["route"] == "/api/v1/health"
        assert doc["status"] == "200"
        assert doc["outcome"] == "success"
        assert doc["request_id"] == "lambda-trace-7"
        assert doc["quarry_function_invocations_total"] == 1
    assert (
        first["quarry_function_cold_starts_total"],
        second["quarry_function_cold_starts_total"],
    ) == (1, 0)

"""The `quarry` command as a user runs it: help, invoke, config, and `quarry dev` itself."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.flow import FLOW
from shared.lambda_events.http import HttpRequest, apigw_v2
from tests.conftest import ROOT

QUARRY = [sys.executable, "-m", "cli.main"]
SECRET = "s3cret-value-never-printed-42"


def run(args: list[str], tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")}
    environ |= {
        "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/cli.db",
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "PYTHONPATH": str(ROOT),
    } | env
    return subprocess.run(
        [*QUARRY, *args],
        cwd=tmp,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_help_lists_every_command(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    for command in ("dev", "invoke", "migrate", "config", "openapi"):
        assert command in result.stdout
    sub = run(["invoke", "--help"], tmp_path)
    assert "--event" in sub.stdout


def test_cli_invoke_runs_one_function_with_an_event(tmp_path: Path) -> None:
    event = apigw_v2(
        HttpRequest("GET", "/api/v1/health", "", [("host", "x")], b""),
        "GET /api/v1/health",
        {},
        "req-1",
    )
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    result = run(
        ["invoke", "health", "--event", str(path), "--table", str(ROOT / "serverless.yml")],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"status": "ok", "database": "ok"}


def test_cli_invoke_unknown_function_names_the_choices(tmp_path: Path) -> None:
    result = run(["invoke", "nope", "--table", str(ROOT / "serverless.yml")], tmp_path)
    assert result.returncode == 2
    assert "no function 'nope'" in result.stderr
    assert "health" in result.stderr


def test_cli_config_show_redacts_secrets(tmp_path: Path) -> None:
    result = run(
        ["config", "show"],
        tmp_path,
        QUARRY_SECRET_KEY=SECRET,
        QUARRY_DATABASE_URL=f"postgresql://u:{SECRET}@127.0.0.1:1/q",
        QUARRY_CACHE_URL=f"redis://cache:6379/0?password={SECRET}",
        QUARRY_LLM_FALLBACK=f"groq@https://llm.example/v1?key={SECRET}",
    )
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout
    assert "secret_key" in result.stdout
    assert "**********" in result.stdout


def test_cli_invalid_setting_stops_with_its_name(tmp_path: Path) -> None:
    result = run(["config", "show"], tmp_path, QUARRY_QUEUE="kafka")
    assert result.returncode == 2
    assert "QUARRY_QUEUE" in result.stderr
    assert "'memory'" in result.stderr


def test_cli_broken_table_stops_start_up_naming_the_function(tmp_path: Path) -> None:
    table = tmp_path / "serverless.yml"
    table.write_text("functions:\n  ghost:\n    handler: functions/api/ghost.handler\n")
    result = run(["dev", "--no-demo", "--port", str(free_port()), "--table", str(table)], tmp_path)
    assert result.returncode == 2
    assert "function 'ghost'" in result.stderr
    assert "does not import" in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_dev_serves_api_docs_dashboard_and_metrics(tmp_path: Path) -> None:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")}
    environ |= {"QUARRY_SECRET_KEY": SECRET, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [*QUARRY, "dev", "--port", str(port), "--table", str(ROOT / "serverless.yml")],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45
        runs: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            try:
                runs = httpx.get(f"{base}/api/v1/runs").json()["items"]
            except httpx.HTTPError:
                runs = []
            if runs and runs[0]["state"] == "succeeded":
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"quarry dev's demo run did not succeed within 45 s: {runs}")
        assert httpx.get(f"{base}/api/docs").status_code == 200
        assert httpx.get(f"{base}/api/openapi.json").json()["info"]["title"] == "Quarry API"
        page = httpx.get(f"{base}/")
        assert page.status_code == 200
        assert "Quarry Gazette" in page.text or "Runs" in page.text
        metrics = httpx.get(f"{base}/metrics").text
        assert (
            'quarry_function_invocations_total{function="runs",outcome="success",trigger="http"}'
            in metrics
        )
        assert 'quarry_function_cold_starts_total{function="extraction"} 1.0' in metrics
        assert "quarry_function_init_seconds_count" in metrics
        assert (
            'quarry_function_duration_seconds_count{function="intelligence",trigger="sqs"}'
            in metrics
        )
        for path in ("/", "/api/v1/runs"):  # DNS rebinding: a name that resolves to loopback
            rebound = httpx.get(f"{base}{path}", headers={"host": f"rebound.example:{port}"})
            assert rebound.status_code == 421, (path, rebound.text)
            assert "rebound.example" in rebound.json()["detail"]
        named = httpx.get(f"{base}/api/v1/health", headers={"host": f"localhost:{port}"})
        assert named.status_code == 200
        bad = httpx.get(f"{base}/api/v1/documents", params={"cursor": "forged"})
        assert bad.status_code == 400
        assert SECRET not in bad.text
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Demo run succeeded" in out
    assert re.search(
        r"Estimated\s+AWS\s+cost\s+of\s+this\s+run:\s+\$0\.0\d+,\s+\$0\.\d+\s+per\s+1,000\s+"
        r"documents\s+at\s+us-east-1\s+prices",
        out,
    ), out
    for name in FLOW.names:  # a progress bar per stage
        assert name in out
    log = (tmp_path / ".quarry" / "dev.log").read_text()
    assert SECRET not in log
    lines = [json.loads(line) for line in log.splitlines()]
    reports = [e for e in lines if e["message"].startswith("REPORT RequestId: ")]
    assert reports
    assert all(e["request_id"] and e["function"] for e in reports)
    assert all(e["max_memory_used_mb"] > 0 and e["billed_duration_ms"] >= 1 for e in reports)

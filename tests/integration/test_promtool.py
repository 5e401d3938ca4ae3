"""Prometheus and Alertmanager accept Quarry's files: promtool checks the rules and runs their
unit tests, and checks the generated and compose configs; amtool checks Alertmanager's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from emulator.stack.services.alertmanager import TEMPLATE, render_alertmanager_config
from emulator.stack.services.prometheus import PrometheusServer
from shared.errors import ConfigError
from tests.conftest import ROOT

PROM = ROOT / "infra" / "prometheus"
RULES = PROM / "rules" / "quarry.yml"


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not installed; run infra/install-system-deps.sh"
    return found


def run(*argv: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_promtool_checks_the_alert_rules() -> None:
    out = run(tool("promtool"), "check", "rules", str(RULES))
    assert "SUCCESS: 10 rules found" in out


def test_promtool_unit_tests_of_every_rule_pass() -> None:
    tests = sorted((PROM / "tests").glob("*.yml"))
    assert tests
    out = run(tool("promtool"), "test", "rules", *map(str, tests))
    assert "SUCCESS" in out
    tested = set()
    for path in tests:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            tested |= {t["alertname"] for t in case.get("alert_rule_test", []) if t["exp_alerts"]}
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    assert tested == {r["alert"] for group in rules for r in group["rules"]}


def test_promtool_catches_a_broken_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [tool("promtool"), "check", "rules", str(bad)], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0


def test_promtool_accepts_the_stack_config_with_rules_and_alertmanager(tmp_path: Path) -> None:
    targets = {"api": ["127.0.0.1:9001"], "worker": ["127.0.0.1:9201", "127.0.0.1:9202"]}
    server = PrometheusServer(
        tmp_path, 19090, targets, rule_files=[str(RULES)], alertmanagers=["127.0.0.1:19093"]
    )
    server.prepare()
    config = yaml.safe_load(server.config_path.read_text(encoding="utf-8"))
    assert config["rule_files"] == [str(RULES), str(tmp_path.resolve() / "rules.d" / "*.yml")]
    assert config["alerting"] == {
        "alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:19093"]}]}]
    }
    assert "--web.enable-lifecycle" in server.argv()
    out = run(tool("promtool"), "check", "config", str(server.config_path))
    assert "SUCCESS: 1 rule files found" in out


def test_amtool_accepts_the_compose_and_the_stack_configs(tmp_path: Path) -> None:
    run(tool("amtool"), "check-config", str(TEMPLATE))
    token = tmp_path / "alerts_token"
    token.write_text("t0ken", encoding="utf-8")
    text = render_alertmanager_config(
        TEMPLATE.read_text(encoding="utf-8"), "http://127.0.0.1:18080/api/v1/alerts", token
    )
    rendered = tmp_path / "alertmanager.yml"
    rendered.write_text(text, encoding="utf-8")
    run(tool("amtool"), "check-config", str(rendered))
    config = yaml.safe_load(text)
    assert config["route"]["group_wait"] == "1s"
    hook = config["receivers"][0]["webhook_configs"][0]
    assert hook["url"] == "http://127.0.0.1:18080/api/v1/alerts"
    assert hook["http_config"]["authorization"] == {
        "type": "Bearer",
        "credentials_file": str(token),
    }


@pytest.mark.parametrize(
    ("url", "wait"),
    [("ftp://x/api", "1s"), ("http://h:1/api v1", "1s"), ("http://h:1/api", "soon")],
)
def test_alertmanager_config_refuses_bad_values(url: str, wait: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        render_alertmanager_config(TEMPLATE.read_text(), url, tmp_path / "t", wait)

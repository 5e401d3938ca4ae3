"""The rendered nginx.conf and prometheus.yml pass the servers' own checkers (no server starts)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.stack.services.nginx import NginxPlan, NginxServer
from emulator.stack.services.prometheus import PrometheusServer
from tests.conftest import ROOT


@pytest.fixture
def state() -> Iterator[Path]:
    # Not under pytest's tmp dir: that is private to root, and nginx's workers run as nobody.
    base = Path(tempfile.mkdtemp(prefix="quarry-nginx-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def check(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}{done.stderr}"
    return done.stdout + done.stderr


def test_nginx_accepts_the_rendered_config(state: Path) -> None:
    static = state / "static"
    static.mkdir()
    plan = NginxPlan(port=18080, api=[18081, 18082, 18083], web=[18091, 18092], static_dir=static)
    server = NginxServer(state / "nginx", plan)
    server.prepare()
    check(server.check_argv())


def test_nginx_accepts_the_config_for_the_real_dashboard_assets(state: Path) -> None:
    plan = NginxPlan(port=18080, api=[18081], web=[18091], static_dir=ROOT / "dashboard" / "static")
    server = NginxServer(state / "nginx", plan)
    server.prepare()
    check(server.check_argv())


def test_promtool_accepts_the_rendered_config(state: Path) -> None:
    (state / "rules.yml").write_text("groups: []\n", encoding="utf-8")
    targets = {"api": ["127.0.0.1:9001", "127.0.0.1:9002"], "worker": ["127.0.0.1:9201"]}
    server = PrometheusServer(state, 19090, targets, rule_files=[str(state / "rules.yml")])
    server.prepare()
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed; run infra/install-system-deps.sh"
    out = check([promtool, "check", "config", str(server.config_path)])
    assert "SUCCESS" in out


def test_promtool_accepts_the_compose_config() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed; run infra/install-system-deps.sh"
    check([promtool, "check", "config", str(ROOT / "infra/prometheus/prometheus.yml")])

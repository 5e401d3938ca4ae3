"""prometheus.yml rendering: one scrape job per group, every target kept as its own instance."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from emulator.stack.services.prometheus import render_prometheus_config
from shared.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {
    "api": ["127.0.0.1:9001", "127.0.0.1:9002"],
    "web": ["127.0.0.1:9101"],
    "worker": ["127.0.0.1:9201", "127.0.0.1:9202"],
}


def test_render_one_job_per_group_with_its_targets() -> None:
    config = yaml.safe_load(render_prometheus_config(TARGETS))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert list(jobs) == ["api", "web", "worker"]
    for name, targets in TARGETS.items():
        assert jobs[name]["static_configs"] == [{"targets": targets}]
        assert jobs[name]["metrics_path"] == "/metrics"
        # the instance label is left to Prometheus: one series per target address
        assert "relabel_configs" not in jobs[name]


def test_render_intervals_and_rule_files() -> None:
    text = render_prometheus_config(TARGETS, scrape_interval="15s", rule_files=["rules.yml"])
    config = yaml.safe_load(text)
    assert config["global"] == {
        "scrape_interval": "15s",
        "evaluation_interval": "15s",
        "scrape_timeout": "10s",
    }
    assert config["rule_files"] == ["rules.yml"]


@pytest.mark.parametrize(
    ("targets", "interval"),
    [({"api": ["9001"]}, "5s"), ({"bad job": ["127.0.0.1:1"]}, "5s"), (TARGETS, "often")],
)
def test_render_rejects_bad_input(targets: dict[str, list[str]], interval: str) -> None:
    with pytest.raises(ConfigError):
        render_prometheus_config(targets, scrape_interval=interval)


def test_compose_config_scrapes_every_group() -> None:
    config = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert {"api", "web", "worker"} <= jobs

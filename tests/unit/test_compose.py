"""compose.yaml describes the stack's topology as containers; Docker is not needed to check it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.table import load_table
from shared.config import Settings
from shared.config_load import PREFIX, load_settings

ROOT = Path(__file__).resolve().parent.parent.parent
DOCKERFILE = "infra/docker/Dockerfile"
METRICS_PORT = "9100"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return data


SERVICES: dict[str, dict[str, Any]] = _compose()["services"]
APP = {name for name, svc in SERVICES.items() if "build" in svc}
RUNNING_APPS = APP - {"migrate"}


def _environment(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_the_topology_is_all_there() -> None:
    expected = {
        "nginx",
        "api",
        "web",
        "scheduler",
        "migrate",
        "redis-queue",
        "redis-cache",
        "postgres-primary",
        "postgres-replica",
        "prometheus",
    }
    assert expected <= set(SERVICES)
    assert SERVICES["api"]["deploy"]["replicas"] == 3
    assert SERVICES["web"]["deploy"]["replicas"] == 2
    workers = {name for name in SERVICES if name.startswith("worker-")}
    assert {"api", "web", "scheduler", "migrate", *workers} == APP


def test_every_app_service_runs_the_image_built_from_the_dockerfile() -> None:
    assert (ROOT / DOCKERFILE).is_file()
    images = set()
    for name in APP:
        svc = SERVICES[name]
        assert svc["build"] == {"context": ".", "dockerfile": DOCKERFILE}, name
        images.add(svc["image"])
        assert svc["command"][:2] == ["python", "-m"], name
    assert len(images) == 1


def test_the_dockerfile_installs_the_locked_dependencies_as_a_non_root_user() -> None:
    text = (ROOT / DOCKERFILE).read_text(encoding="utf-8")
    assert "\nFROM python:3.11-slim\n" in text
    assert "uv sync --frozen --no-dev" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users
    assert users[-1] not in ("root", "0")


def test_every_quarry_variable_is_a_setting() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    named = set(re.findall(r"\b" + PREFIX + r"[A-Z0-9_]+", text))
    for svc in SERVICES.values():
        named |= {key for key in _environment(svc) if key.startswith(PREFIX)}
    assert named
    unknown = {n for n in named if n[len(PREFIX) :].lower() not in Settings.model_fields}
    assert not unknown, f"not in shared.config.Settings: {sorted(unknown)}"


@pytest.mark.parametrize("name", sorted(RUNNING_APPS))
def test_app_services_use_the_stack_and_wait_for_the_migration(name: str) -> None:
    svc = SERVICES[name]
    env = _environment(svc)
    assert env["QUARRY_ENV"] == "stack"
    assert env["QUARRY_QUEUE"] == "redis"
    assert env["QUARRY_REDIS_URL"].startswith("redis://:${REDIS_PASSWORD:?")
    assert "@redis-queue:" in env["QUARRY_REDIS_URL"]
    assert "@redis-cache:" in env["QUARRY_CACHE_URL"]
    assert "@postgres-primary:" in env["QUARRY_DATABASE_URL"]
    assert "@postgres-replica:" in env["QUARRY_DATABASE_READER_URL"]
    deps = svc["depends_on"]
    assert deps["migrate"] == {"condition": "service_completed_successfully"}
    for dep, condition in deps.items():
        assert dep in SERVICES
        if dep != "migrate":
            assert condition == {"condition": "service_healthy"}, (name, dep)
    assert METRICS_PORT in svc["command"]
    assert any(METRICS_PORT in part for part in svc["healthcheck"]["test"])


def test_migrate_runs_once_after_the_primary() -> None:
    svc = SERVICES["migrate"]
    assert svc["command"][-1] == "migrate"
    assert svc["restart"] == "no"
    assert svc["depends_on"] == {"postgres-primary": {"condition": "service_healthy"}}


def test_long_running_services_have_healthchecks() -> None:
    for name, svc in SERVICES.items():
        if name != "migrate":
            assert svc["healthcheck"]["test"], name
            assert not svc["healthcheck"].get("disable", False), name


def test_each_stage_has_a_worker() -> None:
    stages = [fn.name for fn in load_table(ROOT / "serverless.yml").stages()]
    assert stages
    for stage in stages:
        command = SERVICES[f"worker-{stage}"]["command"]
        assert command[2:5] == ["emulator.stack.worker", stage, METRICS_PORT]
    workers = {name for name in SERVICES if name.startswith("worker-")}
    assert workers == {f"worker-{stage}" for stage in stages}


def test_every_prometheus_target_is_a_service() -> None:
    prometheus = SERVICES["prometheus"]
    mount = "./infra/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
    assert mount in prometheus["volumes"]
    config = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text("utf-8"))
    targets = []
    for job in config["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            assert str(sd["port"]) == METRICS_PORT
            targets += sd["names"]
        for static in job.get("static_configs", []):
            targets += [t.split(":")[0] for t in static["targets"] if not t.startswith("localhost")]
    assert targets
    missing = [t for t in targets if t not in SERVICES]
    assert not missing, f"Prometheus scrapes {missing}, which compose.yaml does not run"


def test_the_queue_never_evicts_and_the_cache_does() -> None:
    queue = " ".join(SERVICES["redis-queue"]["command"])
    assert "--maxmemory-policy noeviction" in queue
    assert "--appendonly yes" in queue
    assert "--appendfsync everysec" in queue
    cache = " ".join(SERVICES["redis-cache"]["command"])
    assert "--maxmemory-policy allkeys-lru" in cache
    assert "--maxmemory " in cache


def test_the_replica_streams_from_the_primary() -> None:
    replica = SERVICES["postgres-replica"]
    script = " ".join(replica["entrypoint"])
    assert "pg_basebackup -h postgres-primary" in script
    assert " -R " in script
    assert replica["depends_on"]["postgres-primary"] == {"condition": "service_healthy"}
    init = _compose()["configs"]["postgres-replication"]["content"]
    assert "REPLICATION" in init
    assert "host replication replicator" in init


def _schema_errors(doc: dict[str, Any]) -> list[str]:
    from jsonschema import Draft201909Validator

    schema = json.loads((ROOT / "infra/docker/compose-spec.json").read_text(encoding="utf-8"))
    validator = Draft201909Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
    ]


def test_compose_file_follows_the_compose_specification_schema() -> None:
    assert _schema_errors(_compose()) == []


def test_compose_schema_refuses_what_the_specification_does_not_define() -> None:
    doc = _compose()
    doc["services"]["api"]["replicas"] = 3  # belongs under deploy:
    doc["services"]["web"]["depends_on"] = {"api": {"condition": "service_ready"}}
    errors = _schema_errors(doc)
    assert any(e.startswith("services/api:") and "'replicas'" in e for e in errors), errors
    assert any(e.startswith("services/web/depends_on") for e in errors), errors


def test_compose_runs_the_full_topology_with_health_checks_and_order() -> None:
    for name in ("alertmanager", "grafana", "ollama"):
        assert SERVICES[name]["healthcheck"]["test"], name
        assert "build" not in SERVICES[name], name
    intelligence = SERVICES["worker-intelligence"]
    assert intelligence["depends_on"]["ollama"] == {"condition": "service_healthy"}
    env = _environment(intelligence)
    assert env["QUARRY_LLM_BASE_URL"].endswith("//ollama:11434}")
    assert env["QUARRY_LLM_FALLBACK"] == "local"
    assert SERVICES["grafana"]["depends_on"]["prometheus"] == {"condition": "service_healthy"}
    assert SERVICES["nginx"]["depends_on"] == {
        "api": {"condition": "service_healthy"},
        "web": {"condition": "service_healthy"},
    }


SECRETS = (
    "QUARRY_SECRET_KEY",
    "QUARRY_ALERTS_TOKEN",
    "QUARRY_DASHBOARD_PASSWORD_HASH",
    "POSTGRES_PASSWORD",
    "REPLICATION_PASSWORD",
    "REDIS_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
)
VALUES = {
    "QUARRY_DASHBOARD_PASSWORD_HASH": "scrypt$16384$8$1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
}


def _interpolated(value: str) -> str:
    """A value as compose would give it with every required secret set (and defaults used)."""

    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3)
        if op == ":-":
            return rest
        return VALUES.get(name, f"{name.lower()}-0123456789abcdefghijklmnopqrstuvwxyz")

    return re.sub(r"\$\{([A-Z0-9_]+)(:[-?])?([^}]*)\}", one, value)


def test_compose_requires_every_secret_and_has_no_insecure_fallback() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    for name in SECRETS:
        assert f"${{{name}:?" in text, f"{name} must be required (${{{name}:?...}})"
        assert f"${{{name}:-" not in text, f"{name} has a fallback value"
        assert f"${{{name}}}" not in text, f"{name} may be empty"
    for known in ("quarry-dev-secret-change-me", "quarry-dev-alerts-token", "replicator}"):
        assert known not in text


def test_compose_app_settings_pass_the_start_up_checks() -> None:
    env = {k: _interpolated(v) for k, v in _environment(SERVICES["api"]).items()}
    settings = load_settings(env)
    assert settings.env == "stack"
    assert settings.dashboard_password_hash is not None
    assert settings.insecure_allow == ()
    assert settings.trusted_proxies  # nginx reaches the instances from the compose network
    for url in (settings.redis_url, settings.cache_url):
        assert url is not None
        assert ":redis_password-" in url


def test_compose_redis_servers_require_their_password() -> None:
    for name in ("redis-queue", "redis-cache"):
        command = " ".join(SERVICES[name]["command"])
        assert "--requirepass ${REDIS_PASSWORD:?" in command, name
        assert _environment(SERVICES[name])["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?")


def test_compose_prometheus_and_grafana_listen_on_loopback_only() -> None:
    for name in ("prometheus", "grafana"):
        ports = SERVICES[name]["ports"]
        assert ports, name
        assert all(str(p).startswith("127.0.0.1:") for p in ports), (name, ports)
    grafana = _environment(SERVICES["grafana"])
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")

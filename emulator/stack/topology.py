"""The stack's services: what runs, on which ports, in which order, with which settings."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import httpx

from emulator.stack.secrets import stack_secrets
from emulator.stack.services.alertmanager import AlertmanagerServer, alerts_token
from emulator.stack.services.nginx import NginxPlan, NginxServer
from emulator.stack.services.nginx_conf import size_of
from emulator.stack.services.ports import free_port, is_free
from emulator.stack.services.postgres import PostgresServer
from emulator.stack.services.prometheus import PrometheusServer
from emulator.stack.services.redis import RedisServer, check_queue_server
from emulator.stack.services.replica import PostgresReplica
from emulator.stack.supervisor import Service
from emulator.table import Table

if TYPE_CHECKING:
    from emulator.stack.aws_services import Artefacts
from shared.config_load import load_settings
from shared.config_rules import DEV_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent.parent
ALERT_RULES = ROOT / "infra" / "prometheus" / "rules" / "quarry.yml"
RESERVED = {80, 5432, 6379}
DATA, REPLICA, MIGRATE, LAMBDA, APP, EDGE = range(6)


@dataclass(frozen=True)
class Shape:
    api: int = 3
    web: int = 2
    workers: tuple[tuple[str, int], ...] = ()  # (stage, processes); 1 for stages not named
    aws: bool = False  # SQS in a local AWS emulator instead of Redis Streams (`quarry up --aws`)
    artefacts: Artefacts | None = None  # with aws: functions in execution environments

    def workers_of(self, stage: str) -> int:
        return dict(self.workers).get(stage, 1)


class Ports:
    """Ports by service name, kept in the state folder so a second `quarry up` reuses them
    (and its data directories) when they are still free."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
        self.taken: set[int] = set()

    def __call__(self, name: str) -> int:
        port = self.known.get(name)
        if port is None or port in RESERVED or port in self.taken or not is_free(port):
            port = free_port()
            while port in self.taken:
                port = free_port()
        self.known[name] = port
        self.taken.add(port)
        return port

    def save(self) -> None:
        self.path.write_text(json.dumps(self.known, indent=2))


def probe(url: str) -> Callable[[], Awaitable[bool]]:
    """A health probe: GET `url` answers 200."""

    async def ok() -> bool:
        async with httpx.AsyncClient(timeout=2, trust_env=False) as client:
            return (await client.get(url)).status_code == 200

    return ok


def _python(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


class Binary(Protocol):
    """What every service class of emulator/stack/services offers the supervisor."""

    @property
    def port(self) -> int: ...

    @property
    def stop_signal(self) -> int: ...

    @property
    def url(self) -> str: ...

    def argv(self) -> list[str]: ...

    def prepare(self) -> None: ...

    async def ready(self) -> bool: ...


def binary(
    name: str,
    group: int,
    server: Binary,
    *,
    ready: Callable[[], Awaitable[bool]] | None = None,
    drain_s: float = 10.0,
) -> Service:
    """A service run from one of the machine's binaries (Redis, Postgres, nginx, ...)."""
    return Service(
        name,
        group,
        server.argv(),
        ready or server.ready,
        server.prepare,
        server.stop_signal,
        port=server.port,
        url=server.url,
        drain_s=drain_s,
    )


def python(
    name: str, port: int, args: tuple[str, ...], env: dict[str, str], drain_s: float
) -> Service:
    """One of Quarry's own processes, healthy once its /metrics answers."""
    url = f"http://127.0.0.1:{port}"
    return Service(
        name,
        APP,
        _python(*args),
        probe(url + "/metrics"),
        env=env,
        port=port,
        url=url,
        drain_s=drain_s,
    )


def _dir(path: Path) -> Path:
    """A folder the unprivileged Postgres and nginx users can traverse."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o711)
    return path


def services(
    state: Path,
    table: Table,
    shape: Shape,
    table_path: Path,
    environ: Mapping[str, str] = os.environ,
) -> tuple[list[Service], str]:
    """Every service of the stack and the entry URL (nginx); `environ` is the environment
    the processes inherit (the operator's QUARRY_* settings)."""
    _dir(state.parent)
    _dir(state)
    ports = Ports(state / "ports.json")
    kept = stack_secrets(state)
    redis_pw = kept.redis_password
    queue = RedisServer(
        _dir(state / "redis-queue"), ports("redis-queue"), "queue", password=redis_pw
    )
    cache = RedisServer(
        _dir(state / "redis-cache"), ports("redis-cache"), "cache", password=redis_pw
    )
    primary = PostgresServer(
        state / "pg-primary", ports("pg-primary"), password=kept.postgres_password
    )
    replica = PostgresReplica(state / "pg-replica", ports("pg-replica"), primary)
    env = {
        "QUARRY_ENV": "stack",
        "QUARRY_DATABASE_URL": primary.url,
        "QUARRY_DATABASE_READER_URL": replica.url,
        "QUARRY_QUEUE": "redis",
        "QUARRY_REDIS_URL": queue.url,
        "QUARRY_CACHE": "redis",
        "QUARRY_CACHE_URL": cache.url,
        "PYTHONPATH": str(ROOT),
        # the bearer token Alertmanager presents to POST /api/v1/alerts
        "QUARRY_ALERTS_TOKEN": alerts_token(_dir(state / "alertmanager")),
    }
    configured = load_settings(environ, Path("quarry.toml"))
    if configured.secret_key.get_secret_value() == DEV_SECRET_KEY:  # none of the operator's
        env["QUARRY_SECRET_KEY"] = kept.secret_key
    # Every process would refuse these settings (an open dashboard, a weak key): say so now.
    load_settings({**environ, **env}, Path("quarry.toml"))

    aws = []
    if shape.aws:
        from emulator.stack.aws_services import aws_services

        aws = aws_services(state, table, table_path, ports, env, shape.artefacts)

    async def queue_ready() -> bool:
        if not await queue.ready():
            return False
        await check_queue_server(queue.url)  # refuses a queue that could evict messages
        return True

    out = [
        binary("redis-queue", DATA, queue, ready=queue_ready),
        binary("redis-cache", DATA, cache),
        binary("pg-primary", DATA, primary, drain_s=30),
        binary("pg-replica", REPLICA, replica, drain_s=30),
        Service(
            "migrate",
            MIGRATE,
            _python("cli.main", "migrate", "--url", primary.url),
            primary.ready,
            env=env,
            oneshot=True,
        ),
        *aws,
    ]
    timeouts = [fn.timeout for fn in table.functions.values()] or [30.0]
    api_ports = [ports(f"api-{i}") for i in range(1, shape.api + 1)]
    web_ports = [ports(f"web-{i}") for i in range(1, shape.web + 1)]
    scrape: dict[str, list[str]] = {"api": [], "web": [], "worker": [], "scheduler": []}
    drain = max(timeouts) + 5
    for role, role_ports in (("api", api_ports), ("web", web_ports)):
        for i, port in enumerate(role_ports, 1):
            args = ("emulator.stack.instance", role, str(port), str(table_path))
            out.append(python(f"{role}-{i}", port, args, env, drain))
            scrape[role].append(f"127.0.0.1:{port}")
    for fn in table.stages():
        for i in range(1, shape.workers_of(fn.name) + 1):
            name = f"worker-{fn.name}" if i == 1 else f"worker-{fn.name}-{i}"
            port = ports(name)
            worker = "emulator.aws.worker" if shape.aws else "emulator.stack.worker"
            args = (worker, fn.name, str(port), str(table_path))
            keys: dict[str, str] = {}
            if shape.artefacts is not None:  # its event source mapping polls with its role
                from emulator.stack.aws_services import role_keys

                keys = role_keys(state, fn.name)
            out.append(python(name, port, args, env | keys, fn.timeout + 5))
            scrape["worker"].append(f"127.0.0.1:{port}")
    port = ports("scheduler")
    out.append(
        python(
            "scheduler", port, ("emulator.stack.schedulerd", str(port), str(table_path)), env, 10.0
        )
    )
    scrape["scheduler"].append(f"127.0.0.1:{port}")
    for svc in aws:  # the Lambda service: cold starts, invocations, throttles of every function
        if svc.name == "lambda":
            scrape["lambda"] = [f"127.0.0.1:{svc.port}"]
    # nginx refuses what the gateway would: the same QUARRY_MAX_BODY_BYTES the instances read
    max_body = configured.max_body_bytes
    plan = NginxPlan(
        port=ports("nginx"),
        api=api_ports,
        web=web_ports,
        static_dir=ROOT / "dashboard" / "static",
        max_body=size_of(max_body),
    )
    nginx = NginxServer(_dir(state / "nginx"), plan)
    alerts = AlertmanagerServer(
        state / "alertmanager", ports("alertmanager"), nginx.url + "/api/v1/alerts"
    )
    prom = PrometheusServer(
        _dir(state / "prometheus"),
        ports("prometheus"),
        scrape,
        rule_files=[str(ALERT_RULES)],
        alertmanagers=[alerts.address],
    )
    out += [
        binary("nginx", EDGE, nginx),
        binary("alertmanager", EDGE, alerts),
        binary("prometheus", EDGE, prom),
    ]
    for svc in out:
        svc.cwd = ROOT
    ports.save()
    if os.geteuid() == 0:
        os.chmod(state, 0o711)
    return out, nginx.url

"""The parity report: what serverless.yml asks that the emulator cannot honour locally, and
the local settings that differ from the deployed ones, function by function."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from rich.table import Table as RichTable

from emulator.table import read_document
from shared.errors import ConfigError

Mode = Literal["dev", "stack"]
Honoured = Literal["yes", "partly", "no"]
MODES: tuple[Mode, ...] = ("dev", "stack")
ALL = "*"  # the row is about every function (provider-wide or the platform itself)
EMULATED_EVENTS = {"httpApi", "sqs", "schedule"}
RECLAIM_MARGIN_S = 5  # emulator.stack.worker.RECLAIM_MARGIN_S (a test keeps them equal): that
# module takes seconds to import, too long for a start-up line


@dataclass(frozen=True)
class Row:
    function: str
    setting: str
    deployed: str
    local: str
    honoured: Honoured


def read(path: Path) -> dict[str, Any]:
    """serverless.yml as written, CloudFormation tags kept as plain values."""
    return read_document(path)


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _events(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    events = spec.get("events")
    return [
        next(iter(e.items()))
        for e in (events if isinstance(events, list) else [])
        if isinstance(e, dict) and len(e) == 1
    ]


def _queue_props(arn: Any, resources: dict[str, Any]) -> dict[str, Any]:
    ref = arn.get("GetAtt") if isinstance(arn, dict) else None
    queue = _map(resources.get(str(ref).split(".")[0])) if ref else {}
    return _map(queue.get("Properties"))


def _environment(name: str, env: Any) -> list[Row]:
    if not isinstance(env, dict) or not env:
        return []
    ssm = sum(1 for v in env.values() if isinstance(v, str) and "${ssm:" in v)
    deployed = ", ".join(sorted(env)) + (f" ({ssm} from SSM parameters)" if ssm else "")
    local = "QUARRY_* variables and quarry.toml instead (`quarry config show`)"
    return [Row(name, "environment", deployed, local, "no")]


def _provider_rows(provider: dict[str, Any], mode: Mode) -> list[Row]:
    rows: list[Row] = []
    if provider.get("vpc"):
        rows.append(Row(ALL, "vpc", "provider-wide", "host network, no VPC", "no"))
    if provider.get("layers"):
        rows.append(Row(ALL, "layers", _names(provider["layers"]), _LAYERS, "no"))
    rows += _environment(ALL, provider.get("environment"))
    role = _map(_map(provider.get("iam")).get("role"))
    statements = provider.get("iamRoleStatements") or role.get("statements")
    if statements:
        rows.append(Row(ALL, "iamRoleStatements", "IAM role", _IAM, "no"))
    runtime = str(provider.get("runtime", "python3.11"))
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    same: Honoured = "yes" if runtime == here else "partly"
    rows.append(Row(ALL, "runtime", runtime, f"this interpreter, {here}", same))
    if mode == "dev":
        rows += [
            Row(ALL, "database", "Postgres primary + replica", "SQLite file, one pool", "partly"),
            Row(ALL, "queue", "SQS", "Taskiq in-process broker", "partly"),
            Row(ALL, "metrics", _METRICS, "/metrics on the gateway only", "no"),
            Row(ALL, "alerts", _ALERTS, "none: no Prometheus or Alertmanager in dev", "no"),
        ]
    else:
        rows += [
            Row(ALL, "database", "Postgres primary + replica", "local Postgres + replica", "yes"),
            Row(ALL, "queue", "SQS", "Redis Streams (Taskiq)", "partly"),
            Row(ALL, "metrics", _METRICS, _NO_GRAFANA, "partly"),
            Row(
                ALL, "alerts", _ALERTS, "Prometheus rules, Alertmanager, POST /api/v1/alerts", "yes"
            ),
        ]
    return rows


_LAYERS = "not mounted; code and packages come from this checkout and its virtualenv"
_IAM = "not enforced: local processes may call anything"


_METRICS = "Prometheus + Grafana (CloudWatch EMF lines in Lambda)"
_ALERTS = "Prometheus rules → Alertmanager → /api/v1/alerts"
_NO_GRAFANA = "Prometheus per instance and worker; Grafana not started (compose.yaml provisions it)"


def _names(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(str(next(iter(i.values()))) if isinstance(i, dict) else str(i) for i in items)


def _memory(name: str, memory: Any, queue: bool, mode: Mode) -> Row:
    deployed = f"{memory} MB"
    if mode == "dev":
        return Row(name, "memorySize", deployed, "not enforced: one shared process", "no")
    if queue:
        return Row(name, "memorySize", deployed, "enforced: its worker exits when over", "yes")
    return Row(name, "memorySize", deployed, "not enforced: shares gateway instances", "no")


def _visibility(name: str, timeout: Any, props: dict[str, Any], mode: Mode) -> Row:
    deployed = f"visibility timeout {props.get('VisibilityTimeout', 30)} s"
    if mode == "dev":
        return Row(name, "sqs redelivery", deployed, "in-process: lost if the process dies", "no")
    local = f"reclaimed after timeout + {RECLAIM_MARGIN_S} s = {timeout + RECLAIM_MARGIN_S:g} s"
    return Row(name, "sqs redelivery", deployed, local, "partly")


def _function_rows(
    name: str, spec: dict[str, Any], provider: dict[str, Any], resources: dict[str, Any], mode: Mode
) -> list[Row]:
    rows: list[Row] = []
    events = _events(spec)
    queue = any(kind == "sqs" for kind, _ in events)
    for kind, body in events:
        if kind not in EMULATED_EVENTS:
            rows.append(Row(name, f"events: {kind}", "trigger", "not emulated", "no"))
        elif kind == "httpApi" and isinstance(body, dict) and body.get("authorizer"):
            route = f"{body.get('method', '')} {body.get('path', '')}".strip()
            auth = _names(body["authorizer"])
            rows.append(Row(name, "httpApi authorizer", f"{auth} on {route}", _OPEN, "no"))
    if spec.get("vpc"):
        rows.append(Row(name, "vpc", "function VPC", "host network, no VPC", "no"))
    if spec.get("layers"):
        rows.append(Row(name, "layers", _names(spec["layers"]), _LAYERS, "no"))
    if spec.get("provisionedConcurrency"):
        warm = f"{spec['provisionedConcurrency']} warm environments"
        rows.append(Row(name, "provisionedConcurrency", warm, _COLD_ONCE, "no"))
    if spec.get("reservedConcurrency"):
        limit = f"at most {spec['reservedConcurrency']} at once"
        rows.append(Row(name, "reservedConcurrency", limit, "enforced: throttled over it", "yes"))
    memory = spec.get("memorySize") or provider.get("memorySize") or 1024
    timeout = spec.get("timeout") or provider.get("timeout") or 6
    rows.append(_memory(name, memory, queue, mode))
    rows.append(Row(name, "timeout", f"{timeout} s", "enforced", "yes"))
    rows += _environment(name, spec.get("environment"))
    if spec.get("iamRoleStatements"):
        rows.append(Row(name, "iamRoleStatements", "function role", _IAM, "no"))
    for kind, body in events:
        if kind == "sqs":
            props = _queue_props(_map(body).get("arn"), resources)
            rows.append(_visibility(name, float(timeout), props, mode))
    return rows


_OPEN = "not checked: every request reaches the handler"
_COLD_ONCE = "none kept warm: each process starts cold once"


def to_mode(text: str) -> Mode:
    """`dev` or `stack` (`up` names the stack too); anything else is a clear error."""
    if text == "dev":
        return "dev"
    if text in ("stack", "up"):
        return "stack"
    raise ConfigError(f"mode {text!r} is not one of {', '.join(MODES)}")


def rows_of(doc: dict[str, Any], mode: Mode) -> list[Row]:
    """Every parity row of a parsed serverless.yml, platform-wide rows first."""
    provider = _map(doc.get("provider"))
    resources = _map(_map(doc.get("resources")).get("Resources"))
    rows = _provider_rows(provider, mode)
    for name, spec in _map(doc.get("functions")).items():
        rows += _function_rows(str(name), _map(spec), provider, resources, mode)
    return rows


def rows_for(table_path: Path, mode: Mode) -> list[Row]:
    """The parity rows of the serverless.yml at `table_path`."""
    return rows_of(read(table_path), mode)


def to_json(rows: list[Row]) -> list[dict[str, str]]:
    return [asdict(r) for r in rows]


_STYLE = {"yes": "green", "partly": "yellow", "no": "bold red"}


def to_rich(rows: list[Row], mode: Mode) -> RichTable:
    """The rows as a terminal table (`*` rows are about every function)."""
    title = f"parity with AWS under `quarry {'up' if mode == 'stack' else 'dev'}`"
    out = RichTable("function", "setting", "deployed", "local", "honoured", title=title)
    for r in rows:
        style = _STYLE[r.honoured]
        out.add_row(r.function, r.setting, r.deployed, r.local, f"[{style}]{r.honoured}[/]")
    return out


def summary(rows: list[Row]) -> str:
    """One line: how many settings are not (or only partly) honoured locally."""
    no = sum(1 for r in rows if r.honoured == "no")
    partly = sum(1 for r in rows if r.honoured == "partly")
    if not no and not partly:
        return "parity: every setting in serverless.yml is honoured locally"
    return (
        f"parity: {no} setting{'s' * (no != 1)} not honoured locally, {partly} partly "
        "(run `quarry parity` for the table)"
    )


def startup_summary(table_path: Path, mode: str) -> str:
    """The line `quarry dev` and `quarry up` print at start-up (mode "dev" or "stack")."""
    return summary(rows_for(table_path, to_mode(mode)))

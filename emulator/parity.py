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

Mode = Literal["dev", "stack", "aws"]
Honoured = Literal["yes", "partly", "no"]
MODES: tuple[Mode, ...] = ("dev", "stack", "aws")
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


def _environment(name: str, env: Any, mode: Mode) -> list[Row]:
    if not isinstance(env, dict) or not env:
        return []
    ssm = sum(1 for v in env.values() if isinstance(v, str) and "${ssm:" in v)
    deployed = ", ".join(sorted(env)) + (f" ({ssm} from SSM parameters)" if ssm else "")
    if mode == "aws":
        return [Row(name, "environment", deployed, _ENV_AWS, "yes")]
    local = "QUARRY_* variables and quarry.toml instead (`quarry config show`)"
    return [Row(name, "environment", deployed, local, "no")]


def _provider_rows(provider: dict[str, Any], mode: Mode) -> list[Row]:
    rows: list[Row] = []
    if provider.get("vpc"):
        rows.append(Row(ALL, "vpc", "provider-wide", "host network, no VPC", "no"))
    if provider.get("layers"):
        rows.append(_layers(ALL, provider["layers"], mode))
    rows += _environment(ALL, provider.get("environment"), mode)
    role = _map(_map(provider.get("iam")).get("role"))
    statements = provider.get("iamRoleStatements") or role.get("statements")
    if statements or mode == "aws":
        rows += _iam(mode)
    runtime = str(provider.get("runtime", "python3.11"))
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    same: Honoured = "yes" if runtime == here else "partly"
    local = f"this interpreter, {here}"
    if mode == "aws":
        local = f"{here} without site-packages, awslambdaric and boto3 (infra/lambda-runtime)"
    rows.append(Row(ALL, "runtime", runtime, local, same))
    if mode == "aws":
        rows += [
            Row(ALL, "database", "Postgres primary + replica", "local Postgres + replica", "yes"),
            Row(ALL, "queue", "SQS", "SQS in moto's server", "yes"),
            Row(ALL, "execution", "an environment per concurrent invocation", _ENVS, "yes"),
            Row(ALL, "metrics", _METRICS, _NO_GRAFANA, "partly"),
        ]
        return rows
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
_LAYERS_AWS = "its zip unpacked, python/ on the import path, as /opt/python"
_IAM_AWS = (
    "enforced: each function's role from the packaged template in moto (IAM enforcement on), "
    "its calls signed with that role's session; a call it does not allow is AccessDenied"
)
_ENVS = (
    "a process per environment from the function's zip, its layers and the runtime, polling "
    "the Lambda Runtime API; reused while warm; cold start = new process"
)
_ENV_AWS = "the packaged template's variables; SSM parameters in the local AWS"


def _layers(name: str, value: Any, mode: Mode) -> Row:
    if mode == "aws":
        return Row(name, "layers", _names(value), _LAYERS_AWS, "yes")
    return Row(name, "layers", _names(value), _LAYERS, "no")


def _iam(mode: Mode) -> list[Row]:
    if mode != "aws":
        return [Row(ALL, "iamRoleStatements", "IAM role", _IAM, "no")]
    from emulator.aws.iam import COARSE

    rows = [Row(ALL, "iamRoleStatements", "IAM roles per function", _IAM_AWS, "yes")]
    rows += [
        Row(ALL, f"iam: {action}", "checked by AWS", how, "partly")
        for action, how in COARSE.items()
    ]
    return rows


_METRICS = "Prometheus + Grafana (CloudWatch EMF lines in Lambda)"
_ALERTS = "Prometheus rules → Alertmanager → /api/v1/alerts"
_NO_GRAFANA = "Prometheus per instance and worker; Grafana not started (compose.yaml provisions it)"


def _names(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(str(next(iter(i.values()))) if isinstance(i, dict) else str(i) for i in items)


def _memory(name: str, memory: Any, queue: bool, mode: Mode) -> Row:
    deployed = f"{memory} MB"
    if mode == "aws":
        return Row(name, "memorySize", deployed, "enforced per environment: killed over it", "yes")
    if mode == "dev":
        return Row(name, "memorySize", deployed, "not enforced: one shared process", "no")
    if queue:
        return Row(name, "memorySize", deployed, "enforced: its worker exits when over", "yes")
    return Row(name, "memorySize", deployed, "not enforced: shares gateway instances", "no")


def _visibility(name: str, timeout: Any, props: dict[str, Any], mode: Mode) -> Row:
    deployed = f"visibility timeout {props.get('VisibilityTimeout', 30)} s"
    if mode == "aws":
        local = "moto's queue; failed items back after a short backoff, then its dead letters"
        return Row(name, "sqs redelivery", deployed, local, "partly")
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
        rows.append(_layers(name, spec["layers"], mode))
    if spec.get("provisionedConcurrency"):
        warm = f"{spec['provisionedConcurrency']} warm environments"
        rows.append(Row(name, "provisionedConcurrency", warm, _COLD_ONCE, "no"))
    if spec.get("reservedConcurrency"):
        limit = f"at most {spec['reservedConcurrency']} at once"
        rows.append(Row(name, "reservedConcurrency", limit, "enforced: throttled over it", "yes"))
    memory = spec.get("memorySize") or provider.get("memorySize") or 1024
    timeout = spec.get("timeout") or provider.get("timeout") or 6
    rows.append(_memory(name, memory, queue, mode))
    replaced = "enforced; the environment is replaced" if mode == "aws" else "enforced"
    rows.append(Row(name, "timeout", f"{timeout} s", replaced, "yes"))
    rows += _environment(name, spec.get("environment"), mode)
    if spec.get("iamRoleStatements"):
        rows.append(Row(name, "iamRoleStatements", "function role", _IAM, "no"))
    if spec.get("role") and mode == "aws":
        local = "its session's keys in its environment; SQS and SSM calls checked"
        rows.append(Row(name, "role", str(spec["role"]), local, "yes"))
    for kind, body in events:
        if kind == "sqs":
            props = _queue_props(_map(body).get("arn"), resources)
            rows.append(_visibility(name, float(timeout), props, mode))
    return rows


_OPEN = "not checked: every request reaches the handler"
_COLD_ONCE = "none kept warm: each process starts cold once"


def to_mode(text: str) -> Mode:
    """`dev`, `stack` (`up` names the stack too) or `aws` (`quarry up --aws`, functions in
    execution environments); anything else is a clear error."""
    if text == "dev":
        return "dev"
    if text in ("stack", "up"):
        return "stack"
    if text == "aws":
        return "aws"
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
    command = {"dev": "dev", "stack": "up", "aws": "up --aws"}[mode]
    title = f"parity with AWS under `quarry {command}`"
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
    """The line `quarry dev` and `quarry up` print at start-up (mode "dev", "stack" or
    "aws")."""
    return summary(rows_for(table_path, to_mode(mode)))

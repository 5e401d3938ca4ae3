"""serverless.yml as the function table: read, validate, and import handlers from it."""

from __future__ import annotations

import importlib
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from shared.errors import ConfigError
from shared.metering.prices import ARCHITECTURES
from shared.schedule_expressions import ScheduleError, parse_schedule

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY", "*"}
_HANDLER = re.compile(r"^([A-Za-z_][\w/]*)\.([A-Za-z_]\w*)$")


class _CfnLoader(yaml.SafeLoader):
    """Safe YAML that keeps CloudFormation tags (!GetAtt, !Ref, ...) as plain values."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _cfn_tag)


@dataclass(frozen=True)
class Route:
    """An httpApi route: `GET /api/v1/runs/{run_id}`, `ANY /{proxy+}` or `$default`."""

    method: str
    path: str

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    timeout: float
    memory: int
    routes: tuple[Route, ...] = ()
    queue: bool = False
    batch_size: int = 10
    max_receive: int = 3
    schedules: tuple[str, ...] = ()
    reserved_concurrency: int | None = None
    architecture: str = "x86_64"

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0].replace("/", ".")

    @property
    def attr(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Table:
    service: str
    functions: dict[str, Function]

    def http(self) -> list[Function]:
        return [f for f in self.functions.values() if f.routes]

    def stages(self) -> list[Function]:
        return [f for f in self.functions.values() if f.queue]


def _route(fn: str, spec: Any) -> Route:
    if isinstance(spec, dict):
        spec = f"{spec.get('method', '')} {spec.get('path', '')}".strip()
    if not isinstance(spec, str):
        raise ConfigError(f"function {fn!r}: httpApi must be 'METHOD /path' or a mapping")
    if spec.strip() in ("*", "$default"):
        return Route("ANY", "$default")
    parts = spec.split()
    if len(parts) != 2 or parts[0].upper() not in METHODS or not parts[1].startswith("/"):
        raise ConfigError(
            f"function {fn!r}: httpApi route {spec!r} is not 'METHOD /path' "
            f"(methods: {', '.join(sorted(METHODS))})"
        )
    method = "ANY" if parts[0] == "*" else parts[0].upper()
    return Route(method, parts[1])


def _number(fn: str, key: str, value: Any, default: float, low: float, high: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"function {fn!r}: {key} must be a number from {low:g} to {high:g}")
    return float(value)


def _setting(spec: dict[str, Any], provider: dict[str, Any], key: str) -> Any:
    value = spec.get(key)
    return provider.get(key) if value is None else value


def _max_receive(name: str, arn: Any, resources: dict[str, Any]) -> int:
    """The queue's `maxReceiveCount` (attempts before dead-lettering), found through the
    `!GetAtt Queue.Arn` the sqs event names; 3 when the queue has no redrive policy."""
    ref = arn.get("GetAtt") if isinstance(arn, dict) else None
    logical = str(ref).split(".")[0] if ref else None
    queue = resources.get(logical or "", {}) if isinstance(resources, dict) else {}
    props = queue.get("Properties", {}) if isinstance(queue, dict) else {}
    policy = props.get("RedrivePolicy") if isinstance(props, dict) else None
    if not isinstance(policy, dict):
        return 3
    return int(_number(name, "maxReceiveCount", policy.get("maxReceiveCount"), 3, 1, 1000))


def _function(
    name: str, spec: Any, provider: dict[str, Any], resources: dict[str, Any]
) -> Function:
    if not isinstance(spec, dict):
        raise ConfigError(f"function {name!r}: expected a mapping with at least `handler`")
    handler = spec.get("handler")
    if not isinstance(handler, str) or not _HANDLER.match(handler):
        raise ConfigError(
            f"function {name!r}: handler {handler!r} is not 'path/to/module.attribute'"
        )
    # provider-level values are defaults for every function, so they are checked the same way
    timeout = _number(name, "timeout", _setting(spec, provider, "timeout"), 6, 1, 900)
    memory = _number(name, "memorySize", _setting(spec, provider, "memorySize"), 1024, 128, 10240)
    routes: list[Route] = []
    schedules: list[str] = []
    queue, batch, max_receive = False, 10, 3
    events = spec.get("events") or []
    if not isinstance(events, list):
        raise ConfigError(f"function {name!r}: events must be a list")
    for event in events:
        if not isinstance(event, dict) or len(event) != 1:
            raise ConfigError(f"function {name!r}: each event is a one-key mapping, got {event!r}")
        kind, body = next(iter(event.items()))
        if kind == "httpApi":
            routes.append(_route(name, body))
        elif kind == "sqs":
            queue = True
            if isinstance(body, dict):
                batch = int(_number(name, "sqs.batchSize", body.get("batchSize"), 10, 1, 10000))
                max_receive = _max_receive(name, body.get("arn"), resources)
        elif kind == "schedule":
            expr = body.get("rate") if isinstance(body, dict) else body
            for one in expr if isinstance(expr, list) else [expr]:
                try:
                    parse_schedule(str(one))
                except ScheduleError as exc:
                    raise ConfigError(f"function {name!r}: {exc}") from exc
                schedules.append(str(one))
        else:
            raise ConfigError(
                f"function {name!r}: event {kind!r} is not emulated (httpApi, sqs, schedule)"
            )
    return Function(
        name,
        handler,
        timeout,
        int(memory),
        tuple(routes),
        queue,
        batch,
        max_receive,
        tuple(schedules),
        _reserved(name, spec.get("reservedConcurrency")),
        _architecture(name, _setting(spec, provider, "architecture")),
    )


def _architecture(name: str, value: Any) -> str:
    """`architecture` (x86_64 by default, as in Lambda); it sets the price per GB-second."""
    if value is None:
        return "x86_64"
    if value not in ARCHITECTURES:
        raise ConfigError(
            f"function {name!r}: architecture must be one of {', '.join(ARCHITECTURES)}"
        )
    return str(value)


def _reserved(name: str, value: Any) -> int | None:
    """`reservedConcurrency`: at most this many executions at once, across all instances."""
    if value is None:
        return None
    return int(_number(name, "reservedConcurrency", value, 0, 1, 10000))


def read_document(path: Path) -> dict[str, Any]:
    """serverless.yml as written (CloudFormation tags kept as plain values), checked to have
    a `functions:` mapping; ConfigError names the file and the problem."""
    try:
        doc = yaml.load(path.read_text(), Loader=_CfnLoader)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the function table: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("functions"), dict):
        raise ConfigError(f"{path}: expected a `functions:` mapping")
    return doc


def load_table(path: Path) -> Table:
    """Read serverless.yml; a malformed file stops start-up naming the function and problem."""
    doc = read_document(path)
    provider = doc.get("provider") or {}
    if not isinstance(provider, dict):
        raise ConfigError(f"{path}: `provider:` must be a mapping")
    resources = (doc.get("resources") or {}).get("Resources") or {}
    functions = {
        name: _function(name, spec, provider, resources) for name, spec in doc["functions"].items()
    }
    return Table(str(doc.get("service", "quarry")), functions)


def load_handler(fn: Function) -> tuple[Any, float]:
    """Import a function's handler; returns it with the import (init) time in seconds."""
    start = time.perf_counter()
    try:
        module = importlib.import_module(fn.module)
    except Exception as exc:  # any import failure is reported as a table problem
        raise ConfigError(
            f"function {fn.name!r}: handler {fn.handler!r} does not import: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    handler = getattr(module, fn.attr, None)
    if not callable(handler):
        raise ConfigError(f"function {fn.name!r}: module {fn.module} has no callable {fn.attr!r}")
    return handler, time.perf_counter() - start


def functions_for(table: Table, role: str) -> Table:
    """API instances host every HTTP function but the dashboard; web instances only it."""
    keep = {
        name: fn
        for name, fn in table.functions.items()
        if fn.routes and ((name == "dashboard") == (role == "web"))
    }
    return replace(table, functions=keep)

"""The function table the dashboard shows, as data packaged with it: `dashboard/functions.json`.

A dashboard in Lambda has neither serverless.yml nor the emulator's reader, so the table is
written from serverless.yml ahead of time (`quarry table --write`, as `quarry openapi --write`
writes the docs' document) and a unit test fails when the file is stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from shared.errors import ConfigError

PATH = Path(__file__).with_name("functions.json")


class _Route(Protocol):
    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...


class Declared(Protocol):
    """A function as serverless.yml declares it (the emulator's reader yields these)."""

    @property
    def name(self) -> str: ...

    @property
    def handler(self) -> str: ...

    @property
    def routes(self) -> Sequence[_Route]: ...

    @property
    def queue(self) -> bool: ...

    @property
    def schedules(self) -> Sequence[str]: ...

    @property
    def timeout(self) -> float: ...

    @property
    def memory(self) -> int: ...

    @property
    def architecture(self) -> str: ...

    @property
    def reserved_concurrency(self) -> int | None: ...


@dataclass(frozen=True)
class FunctionRow:
    """One function: its name, triggers (routes as `METHOD /path`, a queue, schedules) and
    the limits serverless.yml gives it."""

    name: str
    handler: str
    routes: tuple[str, ...]
    queue: bool
    schedules: tuple[str, ...]
    timeout: float
    memory: int
    architecture: str
    reserved_concurrency: int | None


def rows_of(functions: Iterable[Declared]) -> list[FunctionRow]:
    return [
        FunctionRow(
            fn.name,
            fn.handler,
            tuple(f"{r.method} {r.path}" for r in fn.routes),
            fn.queue,
            tuple(fn.schedules),
            fn.timeout,
            fn.memory,
            fn.architecture,
            fn.reserved_concurrency,
        )
        for fn in functions
    ]


def render(rows: Iterable[FunctionRow]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2) + "\n"


def load(path: Path = PATH) -> list[FunctionRow]:
    """The packaged table; ConfigError says what is wrong with a missing or damaged file."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        return [
            FunctionRow(
                str(i["name"]),
                str(i["handler"]),
                tuple(i["routes"]),
                bool(i["queue"]),
                tuple(i["schedules"]),
                float(i["timeout"]),
                int(i["memory"]),
                str(i["architecture"]),
                None if i["reserved_concurrency"] is None else int(i["reserved_concurrency"]),
            )
            for i in items
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{path.name} cannot be read ({exc}); run `quarry table --write`"
        ) from exc

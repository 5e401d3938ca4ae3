"""Artefact mode of `quarry up --aws`: the package built (or reused) and the Lambda runtime's
packages installed before the stack starts, and the Lambda service's start-up report of the
functions that cannot initialise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from rich.markup import escape

from emulator.artefacts.build import ROOT, package
from emulator.artefacts.runtime_env import interpreter, runtime_env
from shared.errors import ConfigError

if TYPE_CHECKING:
    from emulator.stack.aws_services import Artefacts
    from emulator.stack.supervisor import Supervisor

PACKAGE = ROOT / ".quarry" / "package"  # `quarry package` writes here by default
CACHE = ROOT / ".quarry" / "cache"


def prepare(table_path: Path, say: Callable[[str], None]) -> Artefacts:
    """The package of this checkout's serverless.yml (built when its inputs changed) and the
    runtime's packages (each built by one process at a time)."""
    from emulator.stack.aws_services import Artefacts

    if table_path.resolve() != (ROOT / "serverless.yml").resolve():
        raise ConfigError(
            f"functions run from the package of {ROOT / 'serverless.yml'}, not {table_path}: "
            "use that table, or --in-process to run handlers from another one"
        )
    built = package(PACKAGE, say)
    say(
        f"package {'unchanged, reused' if built.reused else 'built'}: {built.folder} "
        "(the files `serverless deploy --package` uploads)"
    )
    runtime = runtime_env(CACHE)
    return Artefacts(package=built.folder, runtime_dir=runtime, python=interpreter())


def init_report(supervisor: Supervisor) -> list[str]:
    """A line per function that could not initialise at start-up (and the count of those
    that did), from the Lambda service."""
    run = supervisor.running.get("lambda")
    if run is None or not run.service.url:
        return []
    reply = httpx.get(f"{run.service.url}/quarry/init", timeout=10, trust_env=False)
    return init_lines(reply.json().get("functions", {}) if reply.status_code == 200 else {})


def init_lines(functions: dict[str, dict[str, Any]]) -> list[str]:
    """The start-up report from the Lambda service's `/quarry/init` answer (pure)."""
    failed = {name: r for name, r in functions.items() if not r.get("ok")}
    lines = [
        f"[bold red]{name} cannot initialise:[/] "
        + escape(f"{r.get('errorType')}: {r.get('errorMessage', '')}")
        for name, r in sorted(failed.items())
    ]
    ok = len(functions) - len(failed)
    lines.append(
        f"functions run from their packages: {ok} of {len(functions)} initialised an execution "
        "environment (logs: `quarry logs lambda-FUNCTION`); IAM roles enforced"
    )
    return lines

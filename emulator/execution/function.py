"""A function as its execution environments run it (from the packaged template), and the
outcome of one invocation, as Lambda's Invoke API returns it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.artefacts.template import ACCOUNT
from shared.lambda_events.arns import REGION, arn


@dataclass(frozen=True)
class FunctionSpec:
    """A function as its execution environments run it."""

    name: str
    qualified: str  # the deployed name, service-stage-name
    handler: str
    runtime: str
    timeout: float
    memory: int
    reserved: int | None
    task: Path  # the unpacked function zip (/var/task)
    layers: tuple[Path, ...]  # the unpacked layer zips (/opt)
    runtime_dir: Path  # awslambdaric and boto3
    python: Path
    variables: dict[str, str]  # the template's, the local AWS endpoint and the role's keys

    @property
    def arn(self) -> str:
        return arn("lambda", f"function:{self.qualified}", account=ACCOUNT, region=REGION)

    def import_path(self) -> list[Path]:
        """As Lambda orders it: the task, each layer's python/ folder, then the runtime's."""
        return [self.task, *(layer / "python" for layer in self.layers), self.runtime_dir]


@dataclass(frozen=True)
class Result:
    """An invocation's outcome: the payload, and the error type when the function failed."""

    payload: bytes
    error_type: str | None = None

    @property
    def error(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.payload)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}


def failure(error_type: str, message: str) -> Result:
    return Result(
        json.dumps({"errorType": error_type, "errorMessage": message}).encode(), error_type
    )

"""What the Lambda service runs, as data: the package to run from, the runtime packages, the
local AWS and the role credentials (a file written by `quarry up`), and the settings passed
through from the stack; turned into one FunctionSpec per function of the packaged template."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from emulator.artefacts.template import Artefact, artefacts, read_template
from emulator.aws.credentials import read_profile, role_profile
from emulator.execution.function import FunctionSpec
from shared.errors import ConfigError

# Settings an execution environment gets from its template or from SSM, as in AWS: the
# stack's own values of these are not passed through.
OWNED = {
    "QUARRY_ENV",
    "QUARRY_QUEUE",
    "QUARRY_CACHE",
    "QUARRY_DATABASE_URL",
    "QUARRY_DATABASE_READER_URL",
    "QUARRY_REDIS_URL",
    "QUARRY_CACHE_URL",
    "QUARRY_SQS_QUEUE_PREFIX",
    "QUARRY_SSM_PARAMETERS",
    "QUARRY_AWS_ENDPOINT",
    "QUARRY_SECRET_KEY",
}


@dataclass(frozen=True)
class ServiceSpec:
    package: Path  # the package folder (`quarry package`)
    service: str  # serverless.yml's service name
    stage: str
    runtime_dir: Path
    python: Path
    endpoint: str  # host:port of the local AWS
    credentials: Path  # the profiles file the AWS setup writes
    logs: Path
    passthrough: dict[str, str] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        data = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        path.write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls, path: Path) -> ServiceSpec:
        data = json.loads(path.read_text())
        for key in ("package", "runtime_dir", "python", "credentials", "logs"):
            data[key] = Path(data[key]).resolve()
        return cls(**data)


def passthrough_of(environ: dict[str, str]) -> dict[str, str]:
    """The stack's QUARRY_* settings an environment also gets (fetch allow-lists, tokens,
    log level...): everything but what the template and SSM decide."""
    return {k: v for k, v in environ.items() if k.startswith("QUARRY_") and k not in OWNED}


def function_spec(
    art: Artefact,
    unpacked: Path,
    runtime_dir: Path,
    python: Path,
    variables: dict[str, str],
    qualified: str,
) -> FunctionSpec:
    """One function of the template, run from the zips unpacked under `unpacked`, with its
    template variables overlaid by `variables`."""
    task = unpacked / art.code
    if not task.is_dir():
        raise ConfigError(f"function {art.name}: its package {task} is not unpacked")
    return FunctionSpec(
        name=art.name,
        qualified=qualified,
        handler=art.handler,
        runtime=art.runtime,
        timeout=art.timeout,
        memory=art.memory,
        reserved=art.reserved,
        task=task,
        layers=tuple(unpacked / layer for layer in art.layers),
        runtime_dir=runtime_dir.resolve(),
        python=python,
        variables={**art.environment, **variables},
    )


def function_specs(spec: ServiceSpec) -> dict[str, FunctionSpec]:
    """Every function of the packaged template, ready to run with its role's keys."""
    template = read_template(spec.package / "cloudformation-template-update-stack.json")
    unpacked = spec.package.resolve() / "unpacked"
    out: dict[str, FunctionSpec] = {}
    for name, art in artefacts(template, spec.service, spec.stage).items():
        keys = read_profile(spec.credentials, role_profile(name))
        local = {
            "QUARRY_AWS_ENDPOINT": spec.endpoint,
            "AWS_ACCESS_KEY_ID": keys.access_key,
            "AWS_SECRET_ACCESS_KEY": keys.secret_key,
            "AWS_SESSION_TOKEN": keys.token,
        }
        # the stack's settings first: the template's own variables win over them
        variables = {k: v for k, v in spec.passthrough.items() if k not in art.environment}
        out[name] = function_spec(
            art,
            unpacked,
            spec.runtime_dir,
            spec.python,
            variables | local,
            f"{spec.service}-{spec.stage}-{name}",
        )
    return out

"""The stack's AWS side (`quarry up --aws`): moto's server or a running LocalStack, the
one-shot that sets up what serverless.yml and the packaged template create, and, with
artefacts, the Lambda service running every function in execution environments."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from emulator.aws.credentials import role_profile
from emulator.stack.supervisor import Service
from emulator.stack.topology import DATA, LAMBDA, MIGRATE, Ports, _dir, _python, probe
from emulator.table import Table

# The Lambda service is healthy once every function initialised an environment (or failed
# to): on a busy 2-core machine sixteen cold starts take longer than a server's start.
LAMBDA_READY_S = 300.0


@dataclass(frozen=True)
class Artefacts:
    """What `quarry up --aws` runs functions from: the package folder (`quarry package`), the
    Lambda runtime's packages and the interpreter of the execution environments."""

    package: Path
    runtime_dir: Path
    python: Path


def role_keys(state: Path, function: str) -> dict[str, str]:
    """The variables that make a process sign AWS calls as `function`'s role session."""
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(_credentials(state)),
        "AWS_PROFILE": role_profile(function),
    }


def aws_services(
    state: Path,
    table: Table,
    table_path: Path,
    ports: Ports,
    env: dict[str, str],
    artefacts: Artefacts | None,
) -> list[Service]:
    """moto's server (or a LocalStack already running, without artefacts) and the one-shot
    creating serverless.yml's queues; every Quarry process then dispatches to SQS there (`env`
    is changed to say so). With artefacts, the one-shot also creates the SSM parameters, the
    roles and role sessions of the packaged template and switches IAM enforcement on, and the
    Lambda service runs every function in execution environments."""
    from emulator.aws.server import LOCALSTACK, localstack_running, moto_server_argv, require_moto
    from emulator.aws.stack import queue_prefix

    localstack = artefacts is None and localstack_running()  # IAM enforcement needs moto
    if not localstack:
        require_moto()
    port = int(LOCALSTACK.rsplit(":", 1)[1]) if localstack else ports("aws")
    endpoint = LOCALSTACK if localstack else f"127.0.0.1:{port}"
    env.update(
        QUARRY_QUEUE="sqs",
        QUARRY_AWS_ENDPOINT=endpoint,
        QUARRY_SQS_QUEUE_PREFIX=queue_prefix(table.service),
    )
    url = f"http://{endpoint}"
    emulator = Service(
        "aws", DATA, moto_server_argv(port), probe(url + "/moto-api/"), port=port, url=url
    )
    setup = [str(table_path)]
    if artefacts is not None:
        setup += [str(artefacts.package), str(_credentials(state))]
    queues = Service(
        "queues",
        MIGRATE,
        _python("emulator.aws.stack", endpoint, *setup),
        emulator.ready,
        env=env,
        oneshot=True,
    )
    out = [queues] if localstack else [emulator, queues]
    if artefacts is not None:
        out.append(_lambda_service(state, table, ports, env, artefacts, endpoint))
    return out


def _credentials(state: Path) -> Path:
    return state.resolve() / "aws" / "credentials"


def _lambda_service(
    state: Path,
    table: Table,
    ports: Ports,
    env: dict[str, str],
    artefacts: Artefacts,
    endpoint: str,
) -> Service:
    from emulator.artefacts.build import STAGE
    from emulator.execution.client import ENDPOINT
    from emulator.execution.spec import ServiceSpec, passthrough_of

    port = ports("lambda")
    spec = ServiceSpec(
        package=artefacts.package,
        service=table.service,
        stage=STAGE,
        runtime_dir=artefacts.runtime_dir,
        python=artefacts.python,
        endpoint=endpoint,
        credentials=_credentials(state),
        logs=state.resolve() / "logs",
        passthrough=passthrough_of({**os.environ, **env}),
    )
    spec_path = _dir(state.resolve() / "aws") / "lambda.json"
    spec.save(spec_path)
    url = f"http://127.0.0.1:{port}"
    env[ENDPOINT] = url  # the gateway, pollers and scheduler invoke through it
    return Service(
        "lambda",
        LAMBDA,
        _python("emulator.execution.service", str(port), str(spec_path)),
        probe(url + "/quarry/init"),
        env=dict(env),
        port=port,
        url=url,
        drain_s=max(fn.timeout for fn in table.functions.values()) + 5,
        ready_deadline_s=LAMBDA_READY_S,
    )

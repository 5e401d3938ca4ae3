"""`quarry up --aws`: the one-shot that creates the queues of serverless.yml in the local AWS
emulator (the stack's processes then build their ports with SQS as the queue) and, for
functions run from their packages, their SSM parameters, roles and role sessions."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pydantic import SecretStr

from emulator.artefacts.template import Artefact, artefacts, read_template
from emulator.aws.credentials import ADMIN, write_profiles
from emulator.aws.iam import administrator, apply_roles, enforce, sessions
from emulator.aws.queues import create_queues, queue_specs
from emulator.table import load_table, read_document
from shared.aws import client
from shared.aws.ssm import parse_names
from shared.config import Settings
from shared.config_load import load_settings
from shared.errors import ConfigError

STAGE = "dev"  # the stage serverless.yml's queue names are resolved for locally


def queue_prefix(service: str) -> str:
    """The prefix of the stage queues, as serverless.yml names them for the local stage."""
    return f"{service}-{STAGE}-"


def setup(endpoint: str, table_path: Path) -> dict[str, str]:
    """Create serverless.yml's queues and dead-letter queues (idempotent)."""
    return create_queues(client("sqs", endpoint), queue_specs(read_document(table_path), STAGE))


def ssm_values(settings: Settings, functions: dict[str, Artefact]) -> dict[str, str]:
    """The SSM parameters the functions read at cold start (QUARRY_SSM_PARAMETERS of their
    template environment), with the stack's values: its Postgres, Redis and secret key."""
    values: dict[str, str] = {}
    for art in functions.values():
        specs = art.environment.get("QUARRY_SSM_PARAMETERS", "")
        names = parse_names(tuple(s for s in specs.split(",") if s.strip()))
        for setting, name in names.items():
            value = getattr(settings, setting)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value is None:
                raise ConfigError(f"SSM parameter {name}: the stack has no {setting}")
            values[name] = str(value)
    return values


def setup_artefacts(endpoint: str, table_path: Path, package: Path, credentials: Path) -> None:
    """Everything the packaged functions find in AWS: the queues, their SSM parameters, their
    roles from the packaged template, a role session each (written to `credentials` with the
    emulator's own administrator); then IAM enforcement on. Runs once per stack start, on
    a fresh moto."""
    template = read_template(package / "cloudformation-template-update-stack.json")
    table = load_table(table_path)
    functions = artefacts(template, table.service, STAGE)
    urls = setup(endpoint, table_path)
    sqs = client("sqs", endpoint)
    arns = {
        logical: str(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
        )
        for logical, url in urls.items()
    }
    ssm = client("ssm", endpoint)
    settings = load_settings(os.environ, Path("quarry.toml"))
    for name, value in sorted(ssm_values(settings, functions).items()):
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    iam = client("iam", endpoint)
    roles = {art.role for art in functions.values() if art.role}
    apply_roles(iam, template, roles, arns, table.service, STAGE)
    profiles = {ADMIN: administrator(iam)}
    profiles |= sessions(client("sts", endpoint), functions, table.service, STAGE)
    write_profiles(credentials, profiles)
    enforce(endpoint)


def main(argv: list[str]) -> None:
    """`python -m emulator.aws.stack ENDPOINT [TABLE [PACKAGE CREDENTIALS]]`: create the
    queues and print their URLs; with a package, also its SSM parameters, roles and role
    sessions, then IAM enforcement."""
    if not argv:
        sys.exit("usage: python -m emulator.aws.stack ENDPOINT [TABLE [PACKAGE CREDENTIALS]]")
    table = Path(argv[1]) if len(argv) > 1 else Path("serverless.yml")
    if len(argv) == 4:
        setup_artefacts(argv[0], table, Path(argv[2]), Path(argv[3]))
        print(f"queues, SSM parameters, roles and sessions created; IAM enforced at {argv[0]}")
        return
    for logical, url in setup(argv[0], table).items():
        print(f"{logical}: {url}")


if __name__ == "__main__":
    main(sys.argv[1:])

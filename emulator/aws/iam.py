"""IAM in the local AWS, as the packaged template deploys it: each function's role with the
inline policies of its CloudFormation resource, a role session per function (STS AssumeRole),
an administrator for the emulator itself, and then moto's IAM enforcement switched on, so
every later call is checked against the caller's policies and a call a role does not allow
fails with AccessDenied, as in AWS.

moto checks some actions more coarsely than AWS, and the roles are adapted so that what AWS
allows moto allows too (COARSE says how; `quarry parity --mode aws` prints it)."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Mapping
from typing import Any

import httpx

from emulator.artefacts.template import (
    ACCOUNT,
    Artefact,
    resolve,
    role_policies,
    trust_policy,
)
from emulator.aws.credentials import ADMIN, Keys, role_profile
from shared.errors import ConfigError
from shared.lambda_events.arns import arn

SESSION_S = 43200  # the longest role session STS grants: a day's work without renewal
# AWS authorises each batch call by its single action's permission; moto checks the batch
# action's own name, so wherever a role grants the single action it is granted the batch too.
BATCH_OF = {
    "sqs:SendMessage": "sqs:SendMessageBatch",
    "sqs:DeleteMessage": "sqs:DeleteMessageBatch",
    "sqs:ChangeMessageVisibility": "sqs:ChangeMessageVisibilityBatch",
}
# moto authorises these against the resource "*", not the ARN they act on (SSM does not name
# parameters to its check; GetQueueUrl names a queue by QueueName, which moto's check does not
# read), so a grant scoped to a resource would deny them: they are granted on "*" locally.
RESOURCE_BLIND = ("ssm:", "sqs:GetQueueUrl")
COARSE = {
    "ssm:GetParameters": "checked for the action only: moto does not match the parameter "
    "against the grant's Resource (Quarry grants SSM statements on * locally)",
    "sqs:GetQueueUrl": "checked for the action only: moto does not match the queue against "
    "the grant's Resource (Quarry grants it on * to a role the template grants it to)",
    "sqs:SendMessageBatch, sqs:DeleteMessageBatch, sqs:ChangeMessageVisibilityBatch": "moto "
    "checks the batch action by its own name, AWS by the single action's: each is granted "
    "where the template grants the single action",
    "ManagedPolicyArns": "AWS-managed policies (logs, VPC network interfaces) are not "
    "attached: nothing local needs them",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def for_moto(document: Mapping[str, Any]) -> dict[str, Any]:
    """A resolved policy document adapted to moto's checks (see COARSE)."""
    out = copy.deepcopy(dict(document))
    statements: list[dict[str, Any]] = []
    for statement in _as_list(out.get("Statement", [])):
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        extra = [BATCH_OF[a] for a in actions if a in BATCH_OF and BATCH_OF[a] not in actions]
        actions += extra
        blind = [a for a in actions if a.startswith(RESOURCE_BLIND)]
        scoped = [a for a in actions if a not in blind]
        if scoped:
            statements.append({**statement, "Action": scoped})
        if blind:
            statements.append({**statement, "Action": blind, "Resource": "*"})
    out["Statement"] = statements
    return out


def role_name(service: str, stage: str, logical: str) -> str:
    return f"{service}-{stage}-{logical}"


def apply_roles(
    iam: Any,
    template: Mapping[str, Any],
    roles: set[str],
    queue_arns: Mapping[str, str],
    service: str,
    stage: str,
) -> None:
    """Create (or update) each role of `roles` with the template's policies, resolved."""

    def get_att(logical: str, attribute: str) -> str:
        if attribute == "Arn" and logical in queue_arns:
            return queue_arns[logical]
        raise ConfigError(f"the local AWS cannot resolve !GetAtt {logical}.{attribute}")

    for logical in sorted(roles):
        name = role_name(service, stage, logical)
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_role(
                RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_policy(template, logical))
            )
        present = set(iam.list_role_policies(RoleName=name)["PolicyNames"])
        wanted = role_policies(template, logical)
        for policy, document in wanted.items():
            resolved = for_moto(resolve(document, get_att))
            iam.put_role_policy(
                RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(resolved)
            )
        for stale in present - set(wanted):
            iam.delete_role_policy(RoleName=name, PolicyName=stale)


def administrator(iam: Any) -> Keys:
    """The emulator's own user, allowed everything (tests and tools inspect queues with it)."""
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName=ADMIN)
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.put_user_policy(UserName=ADMIN, PolicyName="admin", PolicyDocument=json.dumps(everything))
    key = iam.create_access_key(UserName=ADMIN)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


def sessions(
    sts: Any, functions: Mapping[str, Artefact], service: str, stage: str
) -> dict[str, Keys]:
    """A role session per function (its profile name → keys), as Lambda gives each."""
    out: dict[str, Keys] = {}
    for name, art in sorted(functions.items()):
        if art.role is None:
            raise ConfigError(f"function {name} has no role of its own in the template")
        arn = f"arn:aws:iam::{ACCOUNT}:role/{role_name(service, stage, art.role)}"
        creds = sts.assume_role(RoleArn=arn, RoleSessionName=name, DurationSeconds=SESSION_S)[
            "Credentials"
        ]
        out[role_profile(name)] = Keys(
            creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
    return out


def enforce(endpoint: str) -> None:
    """From now on moto checks every request's signature and policies
    (INITIAL_NO_AUTH_ACTION_COUNT = 0, through moto's reset-auth endpoint)."""
    reply = httpx.post(f"http://{endpoint}/moto-api/reset-auth", content=b"0", trust_env=False)
    if reply.status_code != 200:
        raise ConfigError(
            f"moto did not switch IAM enforcement on: {reply.status_code} {reply.text}"
        )


def queue_arn(name: str) -> str:
    return arn("sqs", name, account=ACCOUNT)

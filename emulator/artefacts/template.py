"""The packaged CloudFormation template read as AWS reads it: each Lambda function (its code and
layer zips, handler, runtime, timeout, memory, reserved concurrency, environment and role) and
each IAM role's inline policies, with the intrinsic functions the template uses resolved."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from shared.errors import ConfigError
from shared.lambda_events.arns import EXAMPLE_ACCOUNT, REGION

# moto's default account (AWS's documentation account), as the local AWS knows it
ACCOUNT = EXAMPLE_ACCOUNT
PARTITION = "aws"
_SUB = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Artefact:
    """One function as deployed: where its code and layers are, and how Lambda runs it."""

    name: str
    handler: str
    runtime: str
    timeout: float
    memory: int
    code: str  # the zip's stem in the package folder
    layers: tuple[str, ...]  # the layers' zip stems, in order
    role: str | None  # the logical id of its IAM role
    environment: dict[str, str]
    reserved: int | None


def read_template(path: Path) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a packaged CloudFormation template: {exc}") from exc
    return doc


def _of_type(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    resources = template.get("Resources") or {}
    return {k: v for k, v in resources.items() if isinstance(v, dict) and v.get("Type") == kind}


def _zip_stem(content: Mapping[str, Any], where: str) -> str:
    key = content.get("S3Key")
    if not isinstance(key, str) or not key.endswith(".zip"):
        raise ConfigError(f"{where}: no S3Key naming its zip in the packaged template")
    return PurePosixPath(key).stem


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


def artefacts(template: Mapping[str, Any], service: str, stage: str) -> dict[str, Artefact]:
    """The template's functions by their serverless.yml name (FunctionName less the
    `service-stage-` prefix)."""
    layers = {
        logical: _zip_stem(res["Properties"].get("Content") or {}, logical)
        for logical, res in _of_type(template, "AWS::Lambda::LayerVersion").items()
    }
    prefix = f"{service}-{stage}-"
    out: dict[str, Artefact] = {}
    for logical, res in _of_type(template, "AWS::Lambda::Function").items():
        props = res.get("Properties") or {}
        name = str(props.get("FunctionName", logical)).removeprefix(prefix)
        variables = (props.get("Environment") or {}).get("Variables") or {}
        reserved = props.get("ReservedConcurrentExecutions")
        code = _zip_stem(props.get("Code") or {}, logical)
        if not props.get("Handler"):
            raise ConfigError(f"{logical}: no Handler in the packaged template")
        out[name] = Artefact(
            name=name,
            handler=str(props["Handler"]),
            runtime=str(props.get("Runtime", "")),
            timeout=float(props.get("Timeout", 6)),
            memory=int(props.get("MemorySize", 1024)),
            code=code,
            layers=tuple(layers[ref] for ref in map(_ref, props.get("Layers") or []) if ref),
            role=_ref(props.get("Role")),
            environment={str(k): str(v) for k, v in variables.items()},
            reserved=int(reserved) if reserved is not None else None,
        )
    return out


Lookup = Callable[[str, str], str]  # (logical id, attribute) → value


def resolve(value: Any, get_att: Lookup) -> Any:
    """`value` with Fn::Sub (of AWS::Partition, ::Region, ::AccountId and `${X.Attr}`) and
    Fn::GetAtt resolved, as CloudFormation would for this account and region."""
    pseudo = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    if isinstance(value, list):
        return [resolve(v, get_att) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::GetAtt" in value:
        logical, attribute = value["Fn::GetAtt"]
        return get_att(str(logical), str(attribute))
    if "Fn::Sub" in value:
        text = value["Fn::Sub"]
        if not isinstance(text, str):
            raise ConfigError(f"Fn::Sub with variables is not supported here: {value!r}")

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in pseudo:
                return pseudo[name]
            logical, _, attribute = name.partition(".")
            return get_att(logical, attribute or "Ref")

        return _SUB.sub(one, text)
    return {k: resolve(v, get_att) for k, v in value.items()}


def role_policies(template: Mapping[str, Any], logical: str) -> dict[str, dict[str, Any]]:
    """The inline policies of role `logical` as written (unresolved), by policy name."""
    role = _of_type(template, "AWS::IAM::Role").get(logical)
    if role is None:
        raise ConfigError(f"no IAM role {logical!r} in the packaged template")
    policies = (role.get("Properties") or {}).get("Policies") or []
    return {str(p["PolicyName"]): p["PolicyDocument"] for p in policies}


def trust_policy(template: Mapping[str, Any], logical: str) -> dict[str, Any]:
    role = _of_type(template, "AWS::IAM::Role")[logical]
    return dict(role["Properties"]["AssumeRolePolicyDocument"])

"""The SQS queues serverless.yml declares, created in a local AWS emulator with their
dead-letter queues and redrive policies, named as CloudFormation would name them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from shared.errors import ConfigError

_VARIABLE = re.compile(r"\$\{(self:service|sls:stage|opt:stage[^}]*)\}")


@dataclass(frozen=True)
class QueueSpec:
    """One AWS::SQS::Queue resource: its logical id, name, plain attributes, and the logical
    id of its dead-letter queue with the receives allowed before a message moves there."""

    logical: str
    name: str
    attributes: dict[str, str]
    dead_letter: str | None = None
    max_receive: int = 0


def _name(raw: Any, logical: str, service: str, stage: str) -> str:
    if raw is None:
        return f"{service}-{stage}-{logical}"
    if not isinstance(raw, str):
        raise ConfigError(f"queue {logical}: QueueName must be a string, got {raw!r}")
    values = {"self:service": service, "sls:stage": stage}
    return _VARIABLE.sub(lambda m: values.get(m.group(1), stage), raw)


def queue_specs(doc: dict[str, Any], stage: str = "dev") -> list[QueueSpec]:
    """The queues of a parsed serverless.yml (CloudFormation tags kept as plain values),
    dead-letter queues first so a redrive policy can name one that exists."""
    service = str(doc.get("service", "quarry"))
    resources = ((doc.get("resources") or {}).get("Resources")) or {}
    specs: list[QueueSpec] = []
    for logical, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::SQS::Queue":
            continue
        props = resource.get("Properties") or {}
        attributes = {
            key: str(props[key])
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
            if key in props
        }
        policy = props.get("RedrivePolicy")
        dead_letter, max_receive = None, 0
        if isinstance(policy, dict):
            target = policy.get("deadLetterTargetArn")
            ref = target.get("GetAtt") if isinstance(target, dict) else None
            if not isinstance(ref, str) or not ref.endswith(".Arn"):
                raise ConfigError(f"queue {logical}: deadLetterTargetArn must be !GetAtt Q.Arn")
            dead_letter = ref.removesuffix(".Arn")
            max_receive = int(policy.get("maxReceiveCount", 0))
            if not 1 <= max_receive <= 1000:
                raise ConfigError(f"queue {logical}: maxReceiveCount must be 1 to 1000")
        name = _name(props.get("QueueName"), logical, service, stage)
        specs.append(QueueSpec(logical, name, attributes, dead_letter, max_receive))
    known = {s.logical for s in specs}
    for spec in specs:
        if spec.dead_letter is not None and spec.dead_letter not in known:
            raise ConfigError(f"queue {spec.logical}: no queue {spec.dead_letter} to redrive to")
    return sorted(specs, key=lambda s: s.dead_letter is not None)


def create_queues(sqs: Any, specs: list[QueueSpec]) -> dict[str, str]:
    """Create (or find) every queue; returns the queue URL by logical id."""
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for spec in specs:
        attributes = dict(spec.attributes)
        if spec.dead_letter is not None:
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arns[spec.dead_letter], "maxReceiveCount": spec.max_receive}
            )
        url = str(sqs.create_queue(QueueName=spec.name, Attributes=attributes)["QueueUrl"])
        got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        urls[spec.logical] = url
        arns[spec.logical] = str(got["Attributes"]["QueueArn"])
    return urls

"""The packaged template read as AWS reads it, its roles adapted to moto's IAM checks, and
the digest that decides whether `quarry package` builds again."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from emulator.artefacts.build import FILES, SOURCES, digest_of, exclusive
from emulator.artefacts.stack import init_lines
from emulator.artefacts.template import artefacts, resolve, role_policies
from emulator.aws.iam import COARSE, for_moto
from emulator.execution.spec import OWNED, passthrough_of
from shared.errors import ConfigError

TEMPLATE: dict[str, Any] = {
    "Resources": {
        "DepsLambdaLayer": {
            "Type": "AWS::Lambda::LayerVersion",
            "Properties": {"Content": {"S3Key": "serverless/quarry/dev/1/deps.zip"}},
        },
        "ExtractionLambdaFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "quarry-dev-extraction",
                "Handler": "functions/stages/extraction.handler",
                "Runtime": "python3.11",
                "Timeout": 30,
                "MemorySize": 1024,
                "Code": {"S3Key": "serverless/quarry/dev/1/extraction.zip"},
                "Layers": [{"Ref": "DepsLambdaLayer"}],
                "Role": {"Fn::GetAtt": ["ExtractionRole", "Arn"]},
                "Environment": {"Variables": {"QUARRY_ENV": "lambda", "QUARRY_QUEUE": "sqs"}},
                "ReservedConcurrentExecutions": 4,
            },
        },
        "ExtractionRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {"Statement": []},
                "Policies": [
                    {
                        "PolicyName": "extraction",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "ssm:GetParameters",
                                    "Resource": {
                                        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:"
                                        "${AWS::AccountId}:parameter/quarry/dev/*"
                                    },
                                },
                                {
                                    "Effect": "Allow",
                                    "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
                                    "Resource": [{"Fn::GetAtt": ["IntelligenceQueue", "Arn"]}],
                                },
                            ],
                        },
                    }
                ],
            },
        },
    }
}
QUEUE = "arn:aws:sqs:us-east-1:123456789012:quarry-dev-intelligence"


def test_artefacts_of_a_packaged_template() -> None:
    (name, art), *_ = artefacts(TEMPLATE, "quarry", "dev").items()
    assert name == "extraction"
    assert (art.code, art.layers, art.role) == ("extraction", ("deps",), "ExtractionRole")
    assert (art.timeout, art.memory, art.reserved) == (30.0, 1024, 4)
    assert art.handler == "functions/stages/extraction.handler"
    assert art.environment == {"QUARRY_ENV": "lambda", "QUARRY_QUEUE": "sqs"}


def test_artefacts_without_a_zip_say_which_function() -> None:
    broken = {"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {}}}}}
    with pytest.raises(ConfigError, match="F: no S3Key naming its zip"):
        artefacts(broken, "quarry", "dev")


def _get_att(logical: str, attribute: str) -> str:
    assert (logical, attribute) == ("IntelligenceQueue", "Arn")
    return QUEUE


def test_resolve_substitutes_pseudo_parameters_and_attributes() -> None:
    document = role_policies(TEMPLATE, "ExtractionRole")["extraction"]
    resolved = resolve(document, _get_att)
    ssm, sqs = resolved["Statement"]
    assert ssm["Resource"] == "arn:aws:ssm:us-east-1:123456789012:parameter/quarry/dev/*"
    assert sqs["Resource"] == [QUEUE]


def test_for_moto_grants_batches_and_widens_only_what_moto_checks_on_star() -> None:
    document = resolve(role_policies(TEMPLATE, "ExtractionRole")["extraction"], _get_att)
    statements = for_moto(document)["Statement"]
    assert statements == [
        {"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "sqs:SendMessageBatch"],
            "Resource": [QUEUE],
        },
        {"Effect": "Allow", "Action": ["sqs:GetQueueUrl"], "Resource": "*"},
    ]
    assert document["Statement"][1]["Action"] == ["sqs:SendMessage", "sqs:GetQueueUrl"]  # a copy
    assert {"ssm:GetParameters", "sqs:GetQueueUrl"} <= set(COARSE)


def test_passthrough_keeps_what_the_template_and_ssm_decide_out() -> None:
    stack = {
        "QUARRY_DATABASE_URL": "postgresql://quarry@127.0.0.1:5/quarry",
        "QUARRY_FETCH_ALLOW_HOSTS": "127.0.0.1:8000",
        "QUARRY_ENV": "stack",
        "PATH": "/usr/bin",
    }
    assert passthrough_of(stack) == {"QUARRY_FETCH_ALLOW_HOSTS": "127.0.0.1:8000"}
    assert {"QUARRY_SECRET_KEY", "QUARRY_SSM_PARAMETERS", "QUARRY_AWS_ENDPOINT"} <= OWNED


def test_the_package_digest_moves_with_every_input_and_nothing_else(tmp_path: Path) -> None:
    for folder in SOURCES:
        (tmp_path / folder / "sub").mkdir(parents=True)
        (tmp_path / folder / "sub" / "mod.py").write_text(f"# {folder}\n")
    first = digest_of(tmp_path)  # the FILES are missing: their absence is part of the digest
    assert digest_of(tmp_path) == first  # the same tree, the same digest: `quarry package` reuses
    cache = tmp_path / "shared" / "sub" / "__pycache__"
    cache.mkdir()
    (cache / "mod.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "shared" / "sub" / "stray.pyc").write_bytes(b"\0")
    assert digest_of(tmp_path) == first  # bytecode the interpreter left is not an input
    seen = {first}
    for folder in SOURCES:
        (tmp_path / folder / "sub" / "mod.py").write_text(f"# {folder}, changed\n")
        seen.add(digest_of(tmp_path))
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("changed\n")
        seen.add(digest_of(tmp_path))
    assert len(seen) == 1 + len(SOURCES) + len(FILES)  # every change made a new digest


def test_quarry_up_names_each_function_that_cannot_initialise() -> None:
    lines = init_lines(
        {
            "health": {"ok": True},
            "runs": {
                "ok": False,
                "errorType": "Runtime.ImportModuleError",
                "errorMessage": "Unable to import module 'functions/api/runs': No module named 'x'",
            },
        }
    )
    assert lines == [
        "[bold red]runs cannot initialise:[/] Runtime.ImportModuleError: Unable to import module "
        "'functions/api/runs': No module named 'x'",
        "functions run from their packages: 1 of 2 initialised an execution environment "
        "(logs: `quarry logs lambda-FUNCTION`); IAM roles enforced",
    ]


def test_a_package_folder_is_built_by_one_process_at_a_time(tmp_path: Path) -> None:
    """A second builder of the same folder (another `quarry package`, `quarry up --aws`, a
    benchmark; here a thread with its own lock file handle) starts only once the first ends."""
    folder = tmp_path / "package"
    order: list[str] = []
    second_tries = threading.Event()

    def second() -> None:
        second_tries.set()
        with exclusive(folder):
            order.append("second in")

    with exclusive(folder):
        waiter = threading.Thread(target=second)
        waiter.start()
        assert second_tries.wait(60), "the second builder never started"
        waiter.join(0.2)  # it is blocked on the lock, not finished
        order.append("first out")
    waiter.join(60)
    assert not waiter.is_alive(), "the second builder never got the lock after the first ended"
    assert order == ["first out", "second in"]
    assert folder.with_name(".package.lock").is_file()  # beside the folder, not inside it

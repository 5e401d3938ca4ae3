"""A Lambda cold start against a local AWS emulator: settings completed from SSM parameters
named in the environment, unpooled database engines, and SQS dispatch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.pool import NullPool

from emulator.aws.queues import create_queues, queue_specs
from emulator.aws.server import local_aws
from emulator.table import read_document
from shared.aws import client
from shared.aws.runtime import lambda_runtime
from shared.aws.ssm import parse_names
from shared.config import load_settings
from shared.dispatch.sqs import SqsDispatcher
from shared.errors import ConfigError
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with local_aws(prefer_localstack=False) as where:
        yield where


def _lambda_env(endpoint: str, tmp_path: Path, names: str) -> dict[str, str]:
    """The environment serverless.yml gives a function, pointed at the local emulator."""
    return {
        "QUARRY_ENV": "lambda",
        "QUARRY_QUEUE": "sqs",
        "QUARRY_CACHE": "memory",
        "QUARRY_SQS_QUEUE_PREFIX": "quarry-dev-",
        "QUARRY_AWS_ENDPOINT": endpoint,
        "QUARRY_SSM_PARAMETERS": names,
        "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/placeholder.db",
    }


async def test_sqs_lambda_cold_start_reads_ssm_and_sends_to_sqs(
    endpoint: str, tmp_path: Path
) -> None:
    ssm = client("ssm", endpoint)
    db_url = f"sqlite+aiosqlite:///{tmp_path}/from-ssm.db"
    ssm.put_parameter(Name="/quarry/dev/database-url", Value=db_url, Type="SecureString")
    ssm.put_parameter(
        Name="/quarry/dev/secret-key", Value="s" * 40, Type="SecureString", Overwrite=True
    )
    sqs = client("sqs", endpoint)
    urls = create_queues(sqs, queue_specs(read_document(ROOT / "serverless.yml")))
    names = "database_url=/quarry/dev/database-url, secret_key=/quarry/dev/secret-key"
    runtime = lambda_runtime(load_settings(_lambda_env(endpoint, tmp_path, names)))
    assert runtime.settings.database_url == db_url
    assert runtime.settings.secret_key.get_secret_value() == "s" * 40
    assert runtime.db.pooled is False
    async with runtime.db.writer() as session:
        assert isinstance(session.bind.pool, NullPool)
    await runtime.db.dispose()
    assert isinstance(runtime.dispatcher, SqsDispatcher)
    await runtime.dispatcher.send("discovery", [{"run_id": "r1"}])
    got: Any = sqs.receive_message(QueueUrl=urls["DiscoveryQueue"], WaitTimeSeconds=1)
    assert [m["Body"] for m in got["Messages"]] == ['{"run_id":"r1"}']


def test_sqs_lambda_cold_start_names_missing_parameters(endpoint: str, tmp_path: Path) -> None:
    names = "database_url=/quarry/dev/nowhere,redis_url=/quarry/dev/also-nowhere"
    with pytest.raises(ConfigError, match="SSM parameters not found: /quarry/dev/also-nowhere"):
        lambda_runtime(load_settings(_lambda_env(endpoint, tmp_path, names)))


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("database_url", "is not `setting=/parameter/name`"),
        ("database_url=relative/name", "is not `setting=/parameter/name`"),
        ("passwords=/quarry/dev/x", "'passwords' is not a setting"),
    ],
)
def test_sqs_lambda_ssm_names_refuse_malformed_pairs(spec: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_names((spec,))

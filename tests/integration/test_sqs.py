"""The AWS path against moto's server: queues and dead-letter queues from serverless.yml,
partial batch failures retried and dead-lettered after maxReceiveCount, a pipeline run whose
stages pass messages through SQS, the --aws stack topology, and a Lambda cold start reading
its settings from SSM."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from dashboard.passwords import hash_password
from emulator.aws.embedded import AwsEmbedded, aws_embedded
from emulator.aws.poller import SqsPoller
from emulator.aws.queues import create_queues, queue_specs
from emulator.aws.server import local_aws
from emulator.table import load_table, read_document
from functions.ops import ticker
from shared.aws import client
from shared.aws.ssm import parse_names
from shared.composition import build_runtime
from shared.config import Settings
from shared.config_load import load_settings
from shared.db import migrate
from shared.db.engine import SqlDatabase
from shared.db.models import DeadLetter
from shared.dispatch.sqs import SqsDispatcher
from shared.errors import ConfigError
from shared.flow import FLOW
from tests.conftest import ROOT
from tests.integration.conftest import poll
from tests.integration.test_pipeline import run_demo

TABLE = ROOT / "serverless.yml"
PLACEHOLDER_HASH = "scrypt$16384$8$1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with local_aws(prefer_localstack=False) as where:
        yield where


@pytest.fixture
def sqs(endpoint: str) -> Any:
    sqs = client("sqs", endpoint)
    for url in sqs.list_queues().get("QueueUrls", []):  # each test starts from no queues
        sqs.delete_queue(QueueUrl=url)
    return sqs


def _count(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def test_sqs_queues_are_created_from_serverless_yml(sqs: Any) -> None:
    specs = queue_specs(read_document(TABLE))
    urls = create_queues(sqs, specs)
    names = sorted(url.rsplit("/", 1)[1] for url in urls.values())
    stages = FLOW.names  # a queue and a dead-letter queue per stage of the flow
    assert names == sorted(
        [f"quarry-dev-{s}" for s in stages] + [f"quarry-dev-{s}-dlq" for s in stages]
    )
    attrs = sqs.get_queue_attributes(QueueUrl=urls["ExtractionQueue"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert attrs["VisibilityTimeout"] == "180"
    policy = json.loads(attrs["RedrivePolicy"])
    assert policy["maxReceiveCount"] == 5
    assert policy["deadLetterTargetArn"].endswith(":quarry-dev-extraction-dlq")
    assert create_queues(sqs, specs) == urls  # a second start finds the same queues


def test_sqs_queue_specs_refuse_a_redrive_to_nowhere() -> None:
    doc = {
        "service": "q",
        "resources": {
            "Resources": {
                "Q": {
                    "Type": "AWS::SQS::Queue",
                    "Properties": {
                        "RedrivePolicy": {
                            "deadLetterTargetArn": {"GetAtt": "Missing.Arn"},
                            "maxReceiveCount": 5,
                        }
                    },
                }
            }
        },
    }
    with pytest.raises(ConfigError, match="no queue Missing to redrive to"):
        queue_specs(doc)


async def test_sqs_failed_items_are_retried_then_dead_lettered(sqs: Any) -> None:
    urls = create_queues(sqs, queue_specs(read_document(TABLE)))
    fn = load_table(TABLE).functions["extraction"]
    seen: Counter[str] = Counter()
    batches: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        batches.append(len(event["Records"]))
        failures = []
        for record in event["Records"]:
            assert record["eventSource"] == "aws:sqs"
            assert record["eventSourceARN"].endswith(":quarry-dev-extraction")
            body = json.loads(record["body"])
            seen[body["n"]] += 1
            if body.get("poison"):
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    dispatcher = SqsDispatcher(sqs, "quarry-dev-")
    await dispatcher.send("extraction", [{"n": "a"}, {"n": "b", "poison": True}, {"n": "c"}])
    poller = SqsPoller(sqs, fn, handler, urls["ExtractionQueue"], wait_s=0, retry_delay_s=0)
    dlq = urls["ExtractionDeadLetterQueue"]

    async def dead_lettered() -> bool:
        await poller.poll_once()
        return _count(sqs, dlq) == 1

    await poll("the poison message in the dead-letter queue", dead_lettered)
    assert seen == {"a": 1, "b": 5, "c": 1}  # delivered maxReceiveCount times, then moved
    assert batches[0] == 3  # one batch, as the event source mapping sends
    assert _count(sqs, urls["ExtractionQueue"]) == 0
    (message,) = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"]) == {"n": "b", "poison": True}


async def test_sqs_dispatch_to_a_missing_queue_says_which(sqs: Any) -> None:
    with pytest.raises(ConfigError, match="SQS queue 'quarry-dev-extraction' of stage"):
        await SqsDispatcher(sqs, "quarry-dev-").send("extraction", [{"n": 1}])


@pytest.fixture
async def aws_platform(
    settings: Settings, demo_site: str, endpoint: str, sqs: Any
) -> AsyncIterator[AwsEmbedded]:
    host = demo_site.split("//", 1)[1]
    cfg = settings.model_copy(
        update={"fetch_allow_hosts": (host,), "queue": "sqs", "aws_endpoint": endpoint}
    )
    async with aws_embedded(cfg, TABLE) as platform:
        yield platform


async def test_sqs_pipeline_runs_through_the_queues(
    aws_platform: AwsEmbedded, demo_site: str
) -> None:
    transport = httpx.ASGITransport(app=aws_platform.gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://quarry.test") as c:
        run = await run_demo(c, demo_site)
    assert run["state"] == "succeeded"
    assert run["stages"]["intelligence"]["succeeded"] > 0
    queues = aws_platform.queues

    async def drained() -> bool:
        await asyncio.sleep(0)
        return all(_count(aws_platform.sqs, url) == 0 for url in queues.values())

    await poll("every queue to drain", drained)


def test_sqs_stack_topology_swaps_taskiq_workers_for_sqs_pollers(tmp_path: Path) -> None:
    from emulator.stack.topology import Shape, services

    table = load_table(TABLE)
    environ = {"QUARRY_DASHBOARD_PASSWORD_HASH": PLACEHOLDER_HASH}
    specs, _ = services(tmp_path / "stack", table, Shape(1, 1, aws=True), TABLE, environ)
    by_name = {s.name: s for s in specs}
    endpoint = f"127.0.0.1:{by_name['aws'].port}"
    assert by_name["queues"].oneshot
    assert by_name["queues"].argv[-3:] == ["emulator.aws.stack", endpoint, str(TABLE)]
    for fn in table.stages():
        worker = by_name[f"worker-{fn.name}"]
        assert worker.argv[2:4] == ["emulator.aws.worker", fn.name]
        assert worker.env["QUARRY_QUEUE"] == "sqs"
        assert worker.env["QUARRY_AWS_ENDPOINT"] == endpoint
        assert worker.env["QUARRY_SQS_QUEUE_PREFIX"] == "quarry-dev-"
    assert by_name["api-1"].env["QUARRY_QUEUE"] == "sqs"
    plain, _ = services(tmp_path / "plain", table, Shape(1, 1), TABLE, environ)
    assert {s.name for s in plain} == set(by_name) - {"aws", "queues"}
    assert all(s.env.get("QUARRY_QUEUE", "redis") == "redis" for s in plain)


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
        # what SSM does not provide here is set plainly, so the start-up check passes
        "QUARRY_SECRET_KEY": "placeholder-secret-key-0123456789abcdef",
        "QUARRY_DASHBOARD_PASSWORD_HASH": PLACEHOLDER_HASH,
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
    ssm.put_parameter(
        Name="/quarry/dev/dashboard-password-hash",
        Value=hash_password("lambda dashboard password"),
        Type="SecureString",
        Overwrite=True,
    )
    sqs = client("sqs", endpoint)
    urls = create_queues(sqs, queue_specs(read_document(ROOT / "serverless.yml")))
    names = (
        "database_url=/quarry/dev/database-url, secret_key=/quarry/dev/secret-key, "
        "dashboard_password_hash=/quarry/dev/dashboard-password-hash"
    )
    runtime = build_runtime(load_settings(_lambda_env(endpoint, tmp_path, names)))
    assert runtime.settings.database_url == db_url
    assert runtime.settings.secret_key.get_secret_value() == "s" * 40
    assert runtime.settings.dashboard_password_hash is not None
    assert isinstance(runtime.db, SqlDatabase)
    assert runtime.db.pooled is False
    async with runtime.db.writer() as session:
        assert isinstance(session.bind.pool, NullPool)
    await runtime.db.dispose()
    assert isinstance(runtime.dispatcher, SqsDispatcher)
    await runtime.dispatcher.send("discovery", [{"run_id": "r1"}])
    got: Any = sqs.receive_message(QueueUrl=urls["DiscoveryQueue"])
    assert [m["Body"] for m in got["Messages"]] == ['{"run_id":"r1"}']


def test_sqs_lambda_cold_start_names_missing_parameters(endpoint: str, tmp_path: Path) -> None:
    names = "database_url=/quarry/dev/nowhere,redis_url=/quarry/dev/also-nowhere"
    with pytest.raises(ConfigError, match="SSM parameters not found: /quarry/dev/also-nowhere"):
        build_runtime(load_settings(_lambda_env(endpoint, tmp_path, names)))


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


def test_sqs_lambda_handler_cold_starts_from_its_environment(endpoint: str, tmp_path: Path) -> None:
    """A fresh process with only the environment serverless.yml gives a function: the first
    invocation reads its database URL from SSM and answers the recorded REST API event."""
    url = f"sqlite+aiosqlite:///{tmp_path}/lambda.db"
    migrate.upgrade(url)  # a deploy step, before any function runs
    ssm = client("ssm", endpoint)
    for name, value in (
        ("database-url", url),
        ("secret-key", "c" * 48),
        ("dashboard-password-hash", hash_password("cold start dashboard password")),
    ):
        ssm.put_parameter(
            Name=f"/quarry/cold/{name}", Value=value, Type="SecureString", Overwrite=True
        )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "QUARRY_ENV": "lambda",
        "QUARRY_QUEUE": "sqs",
        "QUARRY_AWS_ENDPOINT": endpoint,
        "QUARRY_SSM_PARAMETERS": "database_url=/quarry/cold/database-url,"
        "secret_key=/quarry/cold/secret-key,"
        "dashboard_password_hash=/quarry/cold/dashboard-password-hash",
    }
    script = (
        "import json, sys\n"
        "from functions.api.health import handler\n"
        "from shared.handlers.context import LambdaContext\n"
        "print(json.dumps(handler(json.load(sys.stdin), LambdaContext('health'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=(ROOT / "tests/events/apigw-rest-v1-get.json").read_text(),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"]) == {"status": "ok", "database": "ok"}


def test_sqs_worker_exits_like_lambda_when_a_batch_goes_over_memory(tmp_path: Path) -> None:
    script = (
        "from emulator.aws.worker import limited\n"
        "ok = limited(lambda event, context: {'batchItemFailures': []}, 100_000)\n"
        "print(ok({'Records': []}, None), flush=True)\n"
        "limited(lambda event, context: print('handled', flush=True), 1)({'Records': []}, None)\n"
        "print('not reached', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 137, done.stderr
    assert done.stdout.splitlines() == ["{'batchItemFailures': []}", "handled"]
    assert "out of memory: max memory used" in done.stderr


async def test_sqs_ticker_keeps_what_the_dead_letter_queues_hold(aws_platform: AwsEmbedded) -> None:
    # the ticker reads the dead-letter queue of every stage of the flow: these
    assert tuple(fn.name for fn in aws_platform.table.stages()) == aws_platform.runtime.flow.names
    await aws_platform.runtime.dispatcher.send("extraction", [{"poison": True}])
    dlq = aws_platform.queues["ExtractionDeadLetterQueue"]

    async def dead_lettered() -> bool:
        return await asyncio.to_thread(_count, aws_platform.sqs, dlq) == 1

    await poll("the poison message in the dead-letter queue", dead_lettered)
    assert (await ticker.tick("t1"))["dead_letters"] == 1
    async with aws_platform.runtime.db.reader() as session:
        letters = (await session.scalars(select(DeadLetter))).all()
    assert [(d.stage, d.body, d.attempts) for d in letters] == [
        ("extraction", {"poison": True}, 5)  # the queue's maxReceiveCount
    ]
    assert await asyncio.to_thread(_count, aws_platform.sqs, dlq) == 0
    assert (await ticker.tick("t2"))["dead_letters"] == 0

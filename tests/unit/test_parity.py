"""The parity report: what serverless.yml asks that the emulator cannot honour locally."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from emulator import parity
from emulator.parity import Row, rows_for, rows_of, startup_summary, summary
from emulator.table import _CfnLoader, load_table
from shared.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "serverless.yml"

UNHONOURED = """
service: q
provider:
  name: aws
  runtime: python3.11
  memorySize: 512
  vpc: {securityGroupIds: [sg-1], subnetIds: [subnet-1]}
  environment: {OPENAI_KEY: "${ssm:/quarry/openai}", LOG_LEVEL: INFO}
  iam: {role: {statements: [{Effect: Allow, Action: ["sqs:*"], Resource: "*"}]}}
  httpApi: {authorizers: {jwt: {identitySource: $request.header.Authorization}}}
functions:
  admin:
    handler: functions/api/health.handler
    layers: [arn:aws:lambda:us-east-1:1:layer:pandas:3]
    provisionedConcurrency: 2
    reservedConcurrency: 5
    events:
      - httpApi: {method: GET, path: /api/v1/admin, authorizer: {name: jwt}}
      - s3: {bucket: uploads}
"""


# What only the cloud has: the dependencies layer, SSM-named settings, IAM roles and VPCs.
CLOUD_ONLY = {"layers", "environment", "iamRoleStatements", "vpc"}


def test_parity_of_the_real_table_in_dev() -> None:
    rows = [r for r in rows_for(TABLE, "dev") if r.setting not in CLOUD_ONLY]
    table = load_table(TABLE)
    assert rows[:4] == [
        Row("*", "runtime", "python3.11", "this interpreter, python3.11", "yes"),
        Row("*", "database", "Postgres primary + replica", "SQLite file, one pool", "partly"),
        Row("*", "queue", "SQS", "Taskiq in-process broker", "partly"),
        Row(
            "*",
            "metrics",
            "Prometheus + Grafana (CloudWatch EMF lines in Lambda)",
            "/metrics on the gateway only",
            "no",
        ),
    ]
    not_honoured = {(r.function, r.setting) for r in rows if r.honoured == "no"}
    assert not_honoured == (
        {("*", "metrics"), ("*", "alerts")}
        | {(name, "memorySize") for name in table.functions}
        | {(fn.name, "sqs redelivery") for fn in table.stages()}
    )
    for fn in table.functions.values():
        assert Row(fn.name, "timeout", f"{fn.timeout:g} s", "enforced", "yes") in rows
        mine = [r for r in rows if r.function == fn.name and r.setting == "memorySize"]
        assert mine == [
            Row(fn.name, "memorySize", f"{fn.memory} MB", "not enforced: one shared process", "no")
        ]


def test_parity_of_the_real_table_in_the_stack() -> None:
    every = rows_for(TABLE, "stack")
    rows = [r for r in every if r.setting not in CLOUD_ONLY]
    table = load_table(TABLE)
    assert Row(
        "*", "database", "Postgres primary + replica", "local Postgres + replica", "yes"
    ) in (rows)
    for fn in table.http():
        shared = "not enforced: shares gateway instances"
        assert Row(fn.name, "memorySize", f"{fn.memory} MB", shared, "no") in rows
    for fn in table.stages():
        enforced = "enforced: its worker exits when over"
        assert Row(fn.name, "memorySize", f"{fn.memory} MB", enforced, "yes") in rows
    assert (
        Row(
            "extraction",
            "sqs redelivery",
            "visibility timeout 180 s",
            "reclaimed after timeout + 5 s = 35 s",
            "partly",
        )
        in rows
    )
    no = sum(1 for r in rows if r.honoured == "no")
    partly = sum(1 for r in rows if r.honoured == "partly")
    # memory is shared by HTTP functions (gateway instances) and scheduled-only ones (the
    # scheduler process)
    shared = [f for f in table.functions.values() if not f.queue]
    assert (no, partly) == (len(shared), 2 + len(table.stages()))
    cloud = sum(1 for r in every if r.setting in CLOUD_ONLY)
    assert cloud == 3 + sum(1 for r in every if r.setting == "vpc")
    assert startup_summary(TABLE, "stack") == (
        f"parity: {no + cloud} settings not honoured locally, {partly} partly "
        "(run `quarry parity` for the table)"
    )


def test_parity_flags_what_cannot_run_locally() -> None:
    rows = rows_of(yaml.load(UNHONOURED, Loader=_CfnLoader), "stack")
    flagged = {(r.function, r.setting): r for r in rows if r.honoured == "no"}
    assert sorted(flagged) == [
        ("*", "environment"),
        ("*", "iamRoleStatements"),
        ("*", "vpc"),
        ("admin", "events: s3"),
        ("admin", "httpApi authorizer"),
        ("admin", "layers"),
        ("admin", "memorySize"),
        ("admin", "provisionedConcurrency"),
    ]
    assert flagged["*", "environment"].deployed == "LOG_LEVEL, OPENAI_KEY (1 from SSM parameters)"
    assert flagged["admin", "httpApi authorizer"].deployed == "jwt on GET /api/v1/admin"
    assert flagged["admin", "layers"].deployed == "arn:aws:lambda:us-east-1:1:layer:pandas:3"
    assert flagged["admin", "provisionedConcurrency"].deployed == "2 warm environments"
    assert (
        Row(
            "admin",
            "reservedConcurrency",
            "at most 5 at once",
            "enforced: throttled over it",
            "yes",
        )
        in rows
    )


def test_parity_summary_counts_and_modes() -> None:
    assert summary([Row("f", "timeout", "5 s", "enforced", "yes")]) == (
        "parity: every setting in serverless.yml is honoured locally"
    )
    assert summary([Row("f", "vpc", "function VPC", "host network", "no")]) == (
        "parity: 1 setting not honoured locally, 0 partly (run `quarry parity` for the table)"
    )
    assert parity.to_mode("up") == "stack"
    with pytest.raises(ConfigError, match="'prod' is not one of dev, stack"):
        parity.to_mode("prod")


def test_parity_reclaim_margin_is_the_workers() -> None:
    from emulator.stack.worker import RECLAIM_MARGIN_S

    assert parity.RECLAIM_MARGIN_S == RECLAIM_MARGIN_S

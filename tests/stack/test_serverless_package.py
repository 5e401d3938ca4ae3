"""serverless.yml deploys as-is: the pinned Serverless Framework CLI packages it offline (through
`quarry package`, the session's `packaged`), cfn-lint accepts the CloudFormation it produces, and
the template and artifacts keep the deploy rules."""

from __future__ import annotations

import importlib.util
import json
import marshal
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from emulator.table import Table, load_table, read_document
from shared.config_load import load_settings
from shared.flow import FLOW
from tests.conftest import ROOT

LAYER = ROOT / "infra/serverless/layer"
UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda: function and all its layers, unzipped
# The runtime the issue requires (the project's Python) is past AWS's deprecation date in
# cfn-lint's calendar (E2533); W3005 is the framework's own redundant DependsOn.
CFN_LINT_IGNORED = ["E2533", "W3005"]


@pytest.fixture(scope="module")
def template(packaged: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (packaged / "cloudformation-template-update-stack.json").read_text()
    )
    return doc


@pytest.fixture(scope="module")
def table() -> Table:
    return load_table(ROOT / "serverless.yml")


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Lambda functions by their serverless.yml name (FunctionName is service-stage-name)."""
    return {
        v["Properties"]["FunctionName"].removeprefix("quarry-dev-"): v["Properties"]
        for v in _of_type(template, "AWS::Lambda::Function").values()
    }


def _getatt(value: Any) -> str:
    return str(value["Fn::GetAtt"][0])


def test_serverless_package_template_passes_cfn_lint(packaged: Path) -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(ROOT / ".venv/bin")) or "cfn-lint"
    template = packaged / "cloudformation-template-update-stack.json"
    done = subprocess.run(
        [cfn_lint, "--ignore-checks", *CFN_LINT_IGNORED, "--", str(template)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_serverless_package_functions_match_the_table(
    template: dict[str, Any], table: Table
) -> None:
    functions = _functions(template)
    assert set(functions) == set(table.functions)
    declared = read_document(ROOT / "serverless.yml")["functions"]
    for name, spec in declared.items():  # sized one by one, not by the provider's defaults
        assert {"timeout", "memorySize"} <= set(spec), name
    for name, fn in table.functions.items():
        props = functions[name]
        assert props["Runtime"] == "python3.11", name
        assert props["Handler"] == fn.handler, name
        assert props["MemorySize"] == fn.memory, name
        assert props["Timeout"] == fn.timeout, name
        layers = [] if name == "docs" else [{"Ref": "DepsLambdaLayer"}]  # docs: stdlib only
        assert props.get("Layers", []) == layers, name
    routes = {
        r["Properties"]["RouteKey"] for r in _of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {route.key for fn in table.http() for route in fn.routes}
    assert "GET /api/openapi.json" in routes


def test_serverless_package_stage_queues_have_dead_letters_and_partial_failures(
    template: dict[str, Any], table: Table
) -> None:
    resources = template["Resources"]
    mappings = {
        _getatt(m["Properties"]["FunctionName"]): m["Properties"]
        for m in _of_type(template, "AWS::Lambda::EventSourceMapping").values()
    }
    assert {fn.name for fn in table.stages()} == set(FLOW.names)
    for fn in table.stages():
        mapping = mappings[f"{fn.name.capitalize()}LambdaFunction"]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == fn.batch_size
        queue = resources[_getatt(mapping["EventSourceArn"])]["Properties"]
        assert queue["VisibilityTimeout"] >= 6 * fn.timeout, fn.name
        policy = queue["RedrivePolicy"]
        assert policy["maxReceiveCount"] == 5
        dlq = resources[_getatt(policy["deadLetterTargetArn"])]
        assert dlq["Type"] == "AWS::SQS::Queue"
        assert dlq["Properties"]["QueueName"] == f"quarry-dev-{fn.name}-dlq"
    rules = _of_type(template, "AWS::Events::Rule")
    targets = {
        _getatt(t["Arn"]): r["Properties"]["ScheduleExpression"]
        for r in rules.values()
        for t in r["Properties"]["Targets"]
    }
    assert targets == {
        "AnalyticsLambdaFunction": "rate(1 hour)",
        "TickerLambdaFunction": "rate(1 minute)",
    }


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for policy in role["Properties"].get("Policies", [])
        for s in policy["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_serverless_package_each_function_has_least_privilege(template: dict[str, Any]) -> None:
    roles = _of_type(template, "AWS::IAM::Role")
    for name, role in roles.items():
        for statement in _statements(role):
            assert statement["Effect"] == "Allow"
            assert all("*" not in a for a in _as_list(statement["Action"])), name
            assert statement["Resource"] != "*", name
    functions = _functions(template)
    # every function names a role of its own kind (serverless.yml resources), none the
    # framework's shared default role
    assert "IamRoleLambdaExecution" not in roles
    assert all(_getatt(props["Role"]) in roles for props in functions.values())
    for stage in FLOW.names:
        role = roles[_getatt(functions[stage]["Role"])]
        queues = {
            action: {_getatt(r) for r in _as_list(s["Resource"]) if "Fn::GetAtt" in r}
            for s in _statements(role)
            for action in _as_list(s["Action"])
            if action.startswith("sqs:")
        }
        own = f"{stage.capitalize()}Queue"
        assert queues["sqs:ReceiveMessage"] == {own}
        assert queues["sqs:DeleteMessage"] == {own}
        # the flow's dispatch graph (tests/unit/test_flow_roles.py checks every role)
        sends = {f"{target.capitalize()}Queue" for target in FLOW.sends(stage)}
        assert queues.get("sqs:SendMessage", set()) == sends, stage
    docs = roles[_getatt(functions["docs"]["Role"])]
    assert _statements(docs) == []
    assert "VpcConfig" not in functions["docs"]


def test_serverless_package_reads_endpoints_from_ssm_at_run_time(
    template: dict[str, Any],
) -> None:
    text = json.dumps(template)
    assert "${ssm:" not in text
    for name, props in _functions(template).items():
        env = props["Environment"]["Variables"]
        assert env["QUARRY_ENV"] == "lambda", name
        assert env["QUARRY_QUEUE"] == "sqs", name
        names = dict(part.strip().split("=", 1) for part in env["QUARRY_SSM_PARAMETERS"].split(","))
        assert names["database_url"] == "/quarry/dev/database-url"
        assert names["database_reader_url"] == "/quarry/dev/database-reader-url"
        assert names["redis_url"] == "/quarry/dev/redis-url"
        # the secrets the start-up check asks for outside dev come from SSM too
        assert names["secret_key"] == "/quarry/dev/secret-key"
        assert names["dashboard_password_hash"] == "/quarry/dev/dashboard-password-hash"
        assert load_settings(env).env == "lambda", name  # checked once SSM is read
        assert not any("://" in value for value in env.values()), name
        if name != "docs":
            vpc = props["VpcConfig"]
            assert vpc["SecurityGroupIds"]
            assert len(vpc["SubnetIds"]) == 2


def test_serverless_package_serves_static_assets_from_s3_through_cloudfront(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    bucket = resources["StaticBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert _of_type(template, "AWS::CloudFront::OriginAccessControl")
    (dist,) = _of_type(template, "AWS::CloudFront::Distribution").values()
    config = dist["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert _getatt(origins["static"]["OriginAccessControlId"]) == "StaticOriginAccessControl"
    assert {b["PathPattern"]: b["TargetOriginId"] for b in config["CacheBehaviors"]} == {
        "/static/*": "static"
    }
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "api"
    policy = resources["StaticBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Principal"] for s in policy] == [{"Service": "cloudfront.amazonaws.com"}]


def _unzipped(path: Path) -> tuple[list[str], int]:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    return [i.filename for i in infos], sum(i.file_size for i in infos)


def _dev_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = set()
    for spec in project["dependency-groups"]["dev"]:
        names.add(spec.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower())
    return names


def test_serverless_package_artifacts_hold_only_what_each_function_needs(
    packaged: Path, table: Table
) -> None:
    layer_names, layer_size = _unzipped(packaged / "deps.zip")
    assert "requirements.txt" in layer_names
    assert not any(n.startswith(("python/boto3/", "python/botocore/")) for n in layer_names)
    built = LAYER / "python"
    if built.is_dir():  # a built layer (infra/serverless/build-layer.sh) counts in full
        layer_size = max(layer_size, sum(f.stat().st_size for f in built.rglob("*")))
    for name, fn in table.functions.items():
        files, size = _unzipped(packaged / f"{name}.zip")
        assert size + layer_size < UNZIPPED_LIMIT, name
        assert f"{fn.module.replace('.', '/')}.py" in files, name
        tops = {f.split("/")[0] for f in files}
        assert tops <= {"shared", "functions", "dashboard", "openapi.json", "infra"}, (name, tops)
        assert not any(f.startswith("infra/") for f in files) or name == "docs", name
        assert not any("/migrations/" in f for f in files), name
        sources = sorted(f for f in files if f.endswith(".py"))
        assert sorted(f for f in files if f.endswith(".pyc")) == sorted(map(_cached, sources))
        modules = {f for f in sources if f.startswith("functions/") and f.count("/") == 2}
        assert modules <= {
            f"{fn.module.replace('.', '/')}.py",
            "functions/api/__init__.py",
            "functions/stages/__init__.py",
            "functions/ops/__init__.py",
        }, name
    dashboard, _ = _unzipped(packaged / "dashboard.zip")
    assert not any(f.startswith("dashboard/static/") for f in dashboard)
    docs, _ = _unzipped(packaged / "docs.zip")
    ui = "infra/swagger-ui/node_modules/swagger-ui-dist/"
    modules = [
        "functions/__init__.py",
        "functions/api/__init__.py",
        "functions/api/docs.py",
        "shared/__init__.py",
        "shared/lambda_events/__init__.py",
        "shared/lambda_events/arns.py",
        "shared/lambda_events/http.py",
        "shared/page_headers.py",
        "shared/problems.py",
    ]
    assets = [ui + f for f in ("LICENSE", "NOTICE", "swagger-ui-bundle.js", "swagger-ui.css")]
    assert sorted(docs) == sorted([*modules, *map(_cached, modules), *assets, "openapi.json"])


def _cached(source: str) -> str:
    """Where the runtime's Python looks for a module's bytecode."""
    folder, _, name = source.rpartition("/")
    return f"{folder}/__pycache__/{name.removesuffix('.py')}.cpython-311.pyc"


def test_serverless_package_ships_bytecode_compiled_for_the_runtime(
    packaged: Path, table: Table
) -> None:
    """Every module in every function zip has a .pyc of Python 3.11 that the read-only
    /var/task needs no rewrite of: hash-based and unchecked (zips keep no usable mtime), its
    hash that of the source beside it, tracebacks naming /var/task."""
    assert sys.version_info[:2] == (3, 11)  # MAGIC_NUMBER below is the runtime's
    for name in table.functions:
        with zipfile.ZipFile(packaged / f"{name}.zip") as zf:
            sources = [n for n in zf.namelist() if n.endswith(".py")]
            assert sources, name
            for source in sources:
                pyc = zf.read(_cached(source))
                assert pyc[:4] == importlib.util.MAGIC_NUMBER, (name, source)
                flags = int.from_bytes(pyc[4:8], "little")
                assert flags == 0b01, (name, source, "expected hash-based, unchecked")
                assert pyc[8:16] == importlib.util.source_hash(zf.read(source)), (name, source)
                code = marshal.loads(pyc[16:])
                assert code.co_filename == f"/var/task/{source}", (name, code.co_filename)


def test_serverless_package_layer_holds_the_locked_runtime_dependencies_only() -> None:
    lines = (LAYER / "requirements.txt").read_text().splitlines()
    pinned = {line.split("==")[0].strip().lower() for line in lines if "==" in line}
    assert {"fastapi", "mangum", "sqlalchemy", "psycopg", "pydantic"} <= pinned
    assert not pinned & {"boto3", "botocore", "uvicorn", "typer"}
    assert not pinned & _dev_packages()
    exported = subprocess.run(
        ["bash", str(ROOT / "infra/serverless/export-requirements.sh")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines() == lines, (
        "infra/serverless/layer/requirements.txt is stale: run "
        "infra/serverless/export-requirements.sh > infra/serverless/layer/requirements.txt"
    )

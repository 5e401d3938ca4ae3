"""serverless.yml as the function table: the real one loads; bad ones say what is wrong."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from emulator.table import Function, Route, load_handler, load_table
from shared.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
METHODS = "*, ANY, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def write_table(tmp_path: Path, functions: str, provider: str = "") -> Path:
    path = tmp_path / "serverless.yml"
    path.write_text(f"service: t\nprovider:\n  name: aws\n{provider}functions:\n{functions}")
    return path


def test_table_real_file_loads() -> None:
    table = load_table(ROOT / "serverless.yml")
    assert table.service == "quarry"
    assert list(table.functions) == [
        "health",
        "docs",
        "sources",
        "runs",
        "documents",
        "analyticsApi",
        "deadletters",
        "alerts",
        "webhooks",
        "keys",
        "dashboard",
        "discovery",
        "extraction",
        "intelligence",
        "analytics",
        "ticker",
    ]
    assert table.functions["health"] == Function(
        "health", "functions/api/health.handler", 5.0, 256, (Route("GET", "/api/v1/health"),)
    )
    assert table.functions["dashboard"].routes[:2] == (Route("GET", "/"), Route("GET", "/{proxy+}"))
    assert Route("POST", "/sources/{proxy+}") in table.functions["dashboard"].routes
    assert table.functions["extraction"] == Function(
        "extraction",
        "functions/stages/extraction.handler",
        30.0,
        1024,
        queue=True,
        batch_size=10,
        max_receive=5,
    )
    assert table.functions["analytics"] == Function(
        "analytics",
        "functions/stages/analytics.handler",
        60.0,
        512,
        queue=True,
        batch_size=1,
        max_receive=5,
        schedules=("rate(1 hour)",),
    )
    assert [f.name for f in table.http()] == [
        "health",
        "docs",
        "sources",
        "runs",
        "documents",
        "analyticsApi",
        "deadletters",
        "alerts",
        "webhooks",
        "keys",
        "dashboard",
    ]
    assert [f.name for f in table.stages()] == [
        "discovery",
        "extraction",
        "intelligence",
        "analytics",
    ]


def test_table_declares_every_function_module() -> None:
    modules = {
        path.relative_to(ROOT).with_suffix("").as_posix()
        for folder in ("functions/api", "functions/stages", "functions/ops")
        for path in (ROOT / folder).glob("*.py")
        if path.name != "__init__.py"
    }
    declared = {
        f.handler.rsplit(".", 1)[0] for f in load_table(ROOT / "serverless.yml").functions.values()
    }
    assert modules - declared == set()


def test_table_every_handler_imports_and_is_callable() -> None:
    loaded = {}
    for fn in load_table(ROOT / "serverless.yml").functions.values():
        handler, init_s = load_handler(fn)
        assert init_s >= 0
        loaded[fn.name] = (handler, callable(handler))
    assert loaded == {
        fn.name: (getattr(importlib.import_module(fn.module), fn.attr), True)
        for fn in load_table(ROOT / "serverless.yml").functions.values()
    }


def test_table_cloudformation_tags_load(tmp_path: Path) -> None:
    path = write_table(
        tmp_path,
        "  stage:\n"
        "    handler: functions/stages/discovery.handler\n"
        "    role: !GetAtt StageRole.Arn\n"
        "    environment:\n"
        "      QUEUE_URL: !Ref DiscoveryQueue\n"
        "      TOPIC: !Join [':', [arn, !Ref AWS::Partition, sns]]\n"
        "      SETTINGS: !Sub\n"
        "        - '${Name}-settings'\n"
        "        - Name: quarry\n"
        "    events:\n"
        "      - sqs:\n"
        "          arn: !GetAtt DiscoveryQueue.Arn\n"
        "          batchSize: 3\n",
    )
    assert load_table(path).functions["stage"] == Function(
        "stage", "functions/stages/discovery.handler", 6.0, 1024, queue=True, batch_size=3
    )


def test_table_provider_defaults_apply(tmp_path: Path) -> None:
    path = write_table(
        tmp_path,
        "  hello:\n    handler: functions/api/health.handler\n    events:\n"
        "      - httpApi: {method: get, path: /hello}\n      - httpApi: '*'\n",
        provider="  timeout: 20\n  memorySize: 256\n",
    )
    assert load_table(path).functions["hello"] == Function(
        "hello",
        "functions/api/health.handler",
        20.0,
        256,
        (Route("GET", "/hello"), Route("ANY", "$default")),
    )


def test_table_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = write_table(tmp_path, "  broken: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_table(path)
    assert str(info.value).startswith(f"{path}: not valid YAML: ")


def test_table_without_functions_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "serverless.yml"
    path.write_text("service: t\nfunctions:\n  - health\n")
    with pytest.raises(ConfigError) as info:
        load_table(path)
    assert str(info.value) == f"{path}: expected a `functions:` mapping"


def test_table_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yml"
    with pytest.raises(ConfigError) as info:
        load_table(path)
    assert str(info.value).startswith(f"{path}: cannot read the function table: ")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "functions/api/health.handler\n",
            "function 'broken': expected a mapping with at least `handler`",
        ),
        (
            "\n    timeout: 5\n",
            "function 'broken': handler None is not 'path/to/module.attribute'",
        ),
        (
            "\n    handler: functions/api/health\n",
            "function 'broken': handler 'functions/api/health' is not 'path/to/module.attribute'",
        ),
        (
            "\n    handler: functions.api.health.handler\n",
            "function 'broken': handler 'functions.api.health.handler' is not "
            "'path/to/module.attribute'",
        ),
        (
            "\n    handler: functions/api/health.handler\n    events:\n"
            "      - httpApi: 'FETCH /x'\n",
            f"function 'broken': httpApi route 'FETCH /x' is not 'METHOD /path' "
            f"(methods: {METHODS})",
        ),
        (
            "\n    handler: functions/api/health.handler\n    events:\n"
            "      - httpApi: 'GET api/v1/x'\n",
            f"function 'broken': httpApi route 'GET api/v1/x' is not 'METHOD /path' "
            f"(methods: {METHODS})",
        ),
        (
            "\n    handler: functions/api/health.handler\n    events:\n      - httpApi: 5\n",
            "function 'broken': httpApi must be 'METHOD /path' or a mapping",
        ),
        (
            "\n    handler: functions/api/health.handler\n    timeout: 901\n",
            "function 'broken': timeout must be a number from 1 to 900",
        ),
        (
            "\n    handler: functions/api/health.handler\n    timeout: 0\n",
            "function 'broken': timeout must be a number from 1 to 900",
        ),
        (
            "\n    handler: functions/api/health.handler\n    timeout: soon\n",
            "function 'broken': timeout must be a number from 1 to 900",
        ),
        (
            "\n    handler: functions/api/health.handler\n    memorySize: 64\n",
            "function 'broken': memorySize must be a number from 128 to 10240",
        ),
        (
            "\n    handler: functions/stages/discovery.handler\n    events:\n"
            "      - sqs: {arn: x, batchSize: 0}\n",
            "function 'broken': sqs.batchSize must be a number from 1 to 10000",
        ),
        (
            "\n    handler: functions/api/health.handler\n    events:\n"
            "      - s3: {bucket: photos}\n",
            "function 'broken': event 's3' is not emulated (httpApi, sqs, schedule)",
        ),
        (
            "\n    handler: functions/api/health.handler\n    events:\n"
            "      - {httpApi: 'GET /a', sqs: {arn: x}}\n",
            "function 'broken': each event is a one-key mapping, "
            "got {'httpApi': 'GET /a', 'sqs': {'arn': 'x'}}",
        ),
        (
            "\n    handler: functions/api/health.handler\n    events: {httpApi: 'GET /a'}\n",
            "function 'broken': events must be a list",
        ),
        (
            "\n    handler: functions/stages/analytics.handler\n    events:\n"
            "      - schedule: every hour\n",
            "function 'broken': invalid schedule expression 'every hour': expression: "
            "not a rate or cron expression; accepted: rate(value unit) or cron(6 fields)",
        ),
        (
            "\n    handler: functions/stages/analytics.handler\n    events:\n"
            "      - schedule: {rate: ['rate(1 day)', 'rate(1 hours)']}\n",
            "function 'broken': invalid schedule expression 'rate(1 hours)': unit: 'hours' "
            "does not fit the value 1; accepted: minute, hour, day",
        ),
    ],
)
def test_table_malformed_function_names_function_and_problem(
    tmp_path: Path, spec: str, message: str
) -> None:
    path = write_table(
        tmp_path, f"  fine:\n    handler: functions/api/health.handler\n  broken: {spec}"
    )
    with pytest.raises(ConfigError) as info:
        load_table(path)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        ("  timeout: 1000\n", "function 'broken': timeout must be a number from 1 to 900"),
        ("  timeout: '10'\n", "function 'broken': timeout must be a number from 1 to 900"),
        ("  memorySize: 64\n", "function 'broken': memorySize must be a number from 128 to 10240"),
    ],
)
def test_table_out_of_range_provider_default_names_function(
    tmp_path: Path, provider: str, message: str
) -> None:
    path = write_table(
        tmp_path, "  broken:\n    handler: functions/api/health.handler\n", provider=provider
    )
    with pytest.raises(ConfigError) as info:
        load_table(path)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (
            "functions/api/nope.handler",
            "function 'broken': handler 'functions/api/nope.handler' does not import: "
            "ModuleNotFoundError: No module named 'functions.api.nope'",
        ),
        (
            "functions/api/health.nothing",
            "function 'broken': module functions.api.health has no callable 'nothing'",
        ),
        (
            "functions/api/health.__doc__",
            "function 'broken': module functions.api.health has no callable '__doc__'",
        ),
    ],
)
def test_table_unloadable_handler_names_function_and_problem(
    tmp_path: Path, handler: str, message: str
) -> None:
    path = write_table(tmp_path, f"  broken:\n    handler: {handler}\n")
    fn = load_table(path).functions["broken"]
    with pytest.raises(ConfigError) as info:
        load_handler(fn)
    assert str(info.value) == message


def test_table_workers_option_parses_and_names_the_stages() -> None:
    from emulator.stack.commands import parse_workers
    from shared.errors import ConfigError

    stages = ["discovery", "extraction"]
    assert parse_workers(["extraction=2"], stages) == (("extraction", 2),)
    assert parse_workers([], stages) == ()
    for bad in ("extraction", "extraction=0", "nope=2", "extraction=x"):
        with pytest.raises(ConfigError, match="expected STAGE=N"):
            parse_workers([bad], stages)

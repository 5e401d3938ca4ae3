"""`quarry events generate`: each kind of event has the shape AWS sends (compared with the
recorded events in tests/events), with the route serverless.yml gives the request."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from emulator.events import KINDS, client_request, generate, parse_header
from emulator.table import load_table
from shared.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
TABLE = load_table(ROOT / "serverless.yml")
NOW = datetime(2026, 3, 10, 5, 16, 23, tzinfo=UTC)
# Maps whose keys are data (header names, query keys, path variables), not part of the shape.
DATA_MAPS = {
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "messageAttributes",
}


def recorded(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def shape(value: Any, key: str = "") -> Any:
    """Keys at each level and the type of each value, ignoring the values themselves."""
    if isinstance(value, dict):
        if key in DATA_MAPS:
            return "map"
        return {k: shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [sorted({json.dumps(shape(v)) for v in value})]
    return "map" if value is None and key in DATA_MAPS else type(value).__name__


CLIENT = (("Accept", "application/json"), ("User-Agent", "curl/8.5.0"))


@pytest.mark.parametrize(
    ("kind", "name", "path"),
    [
        ("apigw-v1", "apigw-rest-v1-get.json", "/api/v1/health"),
        ("apigw-v2", "apigw-http-v2-get.json", "/api/v1/sources/42"),
        ("alb", "alb-get.json", "/api/v1/health"),
        ("function-url", "function-url-get.json", "/api/openapi.json"),
    ],
)
def test_events_http_kinds_have_the_recorded_shape(kind: str, name: str, path: str) -> None:
    aws = recorded(name)
    query = "tag=news&tag=tech&limit=20" if kind == "apigw-v2" else ""
    event = generate(kind, client_request("GET", path, query, CLIENT), table=TABLE, now=NOW)
    mine, theirs = shape(event), shape(aws)
    # the recording's optional parts (cookies, a query) are only present when sent
    for optional in ("cookies",):
        theirs.pop(optional, None)
    assert mine == theirs


def test_events_apigw_v1_carries_the_route_serverless_yml_gives() -> None:
    req = client_request("GET", "/api/v1/sources/42", "tag=a&tag=b", CLIENT)
    event = generate("apigw-v1", req, table=TABLE, now=NOW)
    assert event["resource"] == "/api/v1/sources/{source_id}"
    assert event["requestContext"]["resourcePath"] == "/api/v1/sources/{source_id}"
    assert event["pathParameters"] == {"source_id": "42"}
    assert event["queryStringParameters"] == {"tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    assert event["requestContext"]["requestTime"] == "10/Mar/2026:05:16:23 +0000"
    assert event["headers"]["Accept"] == "application/json"
    assert event["body"] is None


def test_events_apigw_v2_route_key_and_binary_body() -> None:
    png = b"\x89PNG\r\n\x1a\n"
    req = client_request("POST", "/api/v1/sources", "", (("Content-Type", "image/png"),), png)
    event = generate("apigw-v2", req, table=TABLE)
    assert event["routeKey"] == "POST /api/v1/sources"
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == png
    unrouted = generate("apigw-v2", client_request("DELETE", "/nowhere"), table=TABLE)
    assert unrouted["routeKey"] == "$default"


def test_events_sqs_has_the_recorded_shape_and_one_record_per_body() -> None:
    aws = recorded("sqs-batch.json")
    bodies = ['{"run_id":"r1"}', '{"run_id":"r2"}']
    event = generate(
        "sqs", client_request(), table=TABLE, stage="extraction", bodies=bodies, now=NOW
    )
    assert shape(event) == shape(aws)
    assert [r["body"] for r in event["Records"]] == bodies
    record = event["Records"][0]
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:quarry-dev-extraction"
    assert record["attributes"]["SentTimestamp"] == str(int(NOW.timestamp() * 1000))
    assert len({r["messageId"] for r in event["Records"]}) == 2


def test_events_schedule_has_the_recorded_shape() -> None:
    aws = recorded("eventbridge-scheduled.json")
    event = generate("schedule", client_request(), rule="nightly", now=NOW)
    assert shape(event) == shape(aws)
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/nightly"]
    assert event["time"] == "2026-03-10T05:16:23Z"
    assert event["source"] == "aws.events"


@pytest.mark.parametrize(
    ("kind", "kwargs", "problem"),
    [
        ("kafka", {}, "event kind 'kafka' is not one of " + ", ".join(KINDS)),
        ("sqs", {"bodies": []}, "an SQS event needs at least one --body"),
        ("sqs", {"stage": "billing", "bodies": ["{}"]}, "no stage 'billing' in the function"),
    ],
)
def test_events_refusals_say_what_was_wrong(
    kind: str, kwargs: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        generate(kind, client_request(), table=TABLE, **kwargs)
    assert problem in exc.value.detail


def test_events_headers_are_name_colon_value() -> None:
    assert parse_header("X-Api-Key:  abc:def ") == ("X-Api-Key", "abc:def")
    with pytest.raises(ConfigError, match="is not `Name: value`"):
        parse_header("no colon here")


def test_events_generate_command_prints_an_event_and_refuses_clearly() -> None:
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    table = str(ROOT / "serverless.yml")
    done = runner.invoke(
        app,
        [
            "events",
            "generate",
            "sqs",
            "--stage",
            "analytics",
            "--body",
            '{"a":1}',
            "--table",
            table,
        ],
    )
    assert done.exit_code == 0, done.output
    event = json.loads(done.stdout)
    assert [r["body"] for r in event["Records"]] == ['{"a":1}']
    posted = runner.invoke(
        app,
        [
            *("events", "generate", "apigw-v2", "--method", "post", "--path", "/api/v1/runs"),
            *("-H", "Content-Type: application/json", "--body", "{}", "--table", table),
        ],
    )
    assert posted.exit_code == 0, posted.output
    assert json.loads(posted.stdout)["routeKey"] == "POST /api/v1/runs"
    refused = runner.invoke(app, ["events", "generate", "sns", "--table", table])
    assert refused.exit_code == 2
    assert "event kind 'sns' is not one of" in refused.output

"""API Gateway HTTP API payload 2.0 (shared/lambda_events/http.py): the event a request
becomes, the response a result becomes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Response
from mangum import Mangum

from emulator.routing import Router
from emulator.table import Function, Route
from shared.handlers.context import LambdaContext
from shared.lambda_events.http import HttpRequest, apigw_v2, from_result

EVENTS = Path(__file__).resolve().parents[1] / "events"
HOST = "r3pmxmplak.execute-api.us-east-2.amazonaws.com"
PNG = b"\x89PNG\r\n\x1a\n"
# Maps whose keys are data (header names, query keys, path variables), not part of the shape.
DATA_MAPS = {"headers", "queryStringParameters", "pathParameters"}
# Fields that differ on every request, or name the real account the recording came from.
PER_REQUEST = {"requestId", "time", "timeEpoch", "accountId"}


def recorded(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def shape(value: Any, key: str = "") -> Any:
    """Keys at each level and the type of each value, ignoring the values themselves."""
    if isinstance(value, dict):
        if key in DATA_MAPS:
            return {"*": sorted({type(v).__name__ for v in value.values()})}
        return {k: shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [sorted({type(v).__name__ for v in value})]
    return type(value).__name__


def without_per_request(event: dict[str, Any]) -> dict[str, Any]:
    context = {k: v for k, v in event["requestContext"].items() if k not in PER_REQUEST}
    return {**event, "requestContext": context}


def request(
    method: str = "GET",
    raw_path: str = "/",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> HttpRequest:
    return HttpRequest(method, raw_path, query, headers or [], body, source_ip="205.255.255.176")


def aws_headers(event: dict[str, Any]) -> list[tuple[str, str]]:
    """The recorded event's headers as a client sent them: mixed case, cookies in a header."""
    sent = [(k.title(), v) for k, v in event["headers"].items()]
    if "cookies" in event:
        sent.append(("Cookie", "; ".join(event["cookies"])))
    return sent


def test_apigw_v2_matches_the_recorded_get_event() -> None:
    aws = recorded("apigw-http-v2-get.json")
    req = request("GET", "/api/v1/sources/42", "tag=news&tag=tech&limit=20", aws_headers(aws))

    event = apigw_v2(
        req, "GET /api/v1/sources/{source_id}", {"source_id": "42"}, "rid-1", api_id="r3pmxmplak"
    )

    assert shape(event) == shape(aws)
    assert without_per_request(event) == without_per_request(aws)


def test_apigw_v2_matches_the_recorded_base64_post_event() -> None:
    aws = recorded("apigw-http-v2-post-base64.json")
    req = request("POST", "/api/v1/uploads", "", aws_headers(aws), PNG)

    event = apigw_v2(req, "POST /api/v1/uploads", {}, "rid-2", api_id="r3pmxmplak")

    assert shape(event) == shape(aws)
    assert without_per_request(event) == without_per_request(aws)
    assert base64.b64decode(event["body"]) == PNG


def test_apigw_v2_request_context_carries_the_request() -> None:
    event = apigw_v2(
        request("GET", "/a", headers=[("Host", "api.test"), ("User-Agent", "ua/1")]),
        "GET /a",
        {},
        "rid-3",
        api_id="abc",
    )
    context = event["requestContext"]
    assert {k: v for k, v in context.items() if k not in {"time", "timeEpoch"}} == {
        "accountId": "000000000000",
        "apiId": "abc",
        "domainName": "api.test",
        "domainPrefix": "api",
        "http": {
            "method": "GET",
            "path": "/a",
            "protocol": "HTTP/1.1",
            "sourceIp": "205.255.255.176",
            "userAgent": "ua/1",
        },
        "requestId": "rid-3",
        "routeKey": "GET /a",
        "stage": "$default",
    }
    assert isinstance(context["timeEpoch"], int)
    assert context["time"].endswith(" +0000")


def test_apigw_v2_moves_cookies_out_of_headers() -> None:
    headers = [("Cookie", "session=abc; theme=dark"), ("cookie", "lang=de"), ("Accept", "*/*")]
    event = apigw_v2(request(headers=headers), "GET /", {}, "rid")
    assert event["cookies"] == ["session=abc", "theme=dark", "lang=de"]
    assert event["headers"] == {"accept": "*/*"}


def test_apigw_v2_without_cookies_or_query_omits_those_keys() -> None:
    event = apigw_v2(request(headers=[("Accept", "*/*")]), "GET /", {}, "rid")
    assert set(event) == {
        "version",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "headers",
        "requestContext",
        "isBase64Encoded",
    }
    assert event["rawQueryString"] == ""
    assert event["isBase64Encoded"] is False


def test_apigw_v2_joins_repeated_headers_with_commas() -> None:
    headers = [("X-Tag", "a"), ("x-tag", "b"), ("X-TAG", "c"), ("Accept", "text/html")]
    event = apigw_v2(request(headers=headers), "GET /", {}, "rid")
    assert event["headers"] == {"x-tag": "a,b,c", "accept": "text/html"}


def test_apigw_v2_joins_repeated_query_keys_with_commas() -> None:
    query = "tag=a&tag=b&q=caf%C3%A9+au+lait&empty=&tag=c"
    event = apigw_v2(request(query=query), "GET /", {}, "rid")
    assert event["rawQueryString"] == query
    assert event["queryStringParameters"] == {"tag": "a,b,c", "q": "café au lait", "empty": ""}


def test_apigw_v2_base64_encodes_binary_bodies() -> None:
    headers = [("Content-Type", "application/octet-stream")]
    event = apigw_v2(request("POST", "/up", headers=headers, body=PNG), "POST /up", {}, "rid")
    assert (event["isBase64Encoded"], event["body"]) == (True, "iVBORw0KGgo=")


def test_apigw_v2_base64_encodes_json_that_is_not_utf8() -> None:
    body = '{"name": "café"}'.encode("latin-1")
    headers = [("Content-Type", "application/json")]
    event = apigw_v2(request("POST", "/up", headers=headers, body=body), "POST /up", {}, "rid")
    assert (event["isBase64Encoded"], base64.b64decode(event["body"])) == (True, body)


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "text/plain", "application/xml"],
)
def test_apigw_v2_keeps_text_bodies_plain(content_type: str) -> None:
    body = '{"name": "café", "tags": ["ü"]}'
    headers = [("Content-Type", content_type)]
    req = request("POST", "/api/v1/sources", headers=headers, body=body.encode())
    event = apigw_v2(req, "POST /api/v1/sources", {}, "rid")
    assert (event["isBase64Encoded"], event["body"]) == (False, body)


def test_apigw_v2_keeps_raw_path_encoded_and_decodes_http_path() -> None:
    raw = "/api/v1/sources/caf%C3%A9%20bar"
    source = Function(
        "sources",
        "functions/api/sources.handler",
        10.0,
        512,
        (Route("GET", "/api/v1/sources/{id}"),),
    )
    match = Router([source]).match("GET", "/api/v1/sources/café bar")  # the ASGI-decoded path
    assert match is not None

    event = apigw_v2(request("GET", raw), match.route.key, match.params, "rid")

    assert event["rawPath"] == raw
    assert event["requestContext"]["http"]["path"] == "/api/v1/sources/café bar"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /api/v1/sources/{id}"
    assert event["pathParameters"] == {"id": "café bar"}


def test_apigw_v2_default_route_has_no_path_parameters() -> None:
    event = apigw_v2(request("DELETE", "/anything/here"), "$default", {}, "rid")
    assert (event["routeKey"], event["requestContext"]["routeKey"]) == ("$default", "$default")
    assert "pathParameters" not in event


def test_from_result_turns_cookies_into_set_cookie_headers() -> None:
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "content-length": "11"},
        "cookies": ["a=1; Path=/; SameSite=lax", "b=2; Path=/; HttpOnly"],
        "body": '{"ok":true}',
        "isBase64Encoded": False,
    }
    assert from_result(result) == (
        201,
        [
            ("content-type", "application/json"),
            ("content-length", "11"),
            ("set-cookie", "a=1; Path=/; SameSite=lax"),
            ("set-cookie", "b=2; Path=/; HttpOnly"),
        ],
        b'{"ok":true}',
    )


def test_from_result_decodes_base64_bodies() -> None:
    result = {
        "statusCode": 200,
        "headers": {"content-type": "image/png"},
        "body": "iVBORw0KGgo=",
        "isBase64Encoded": True,
    }
    assert from_result(result) == (200, [("content-type", "image/png")], PNG)


def test_from_result_without_body_is_empty() -> None:
    assert from_result({"statusCode": 204}) == (204, [], b"")


def test_from_result_bare_dict_is_200_json() -> None:
    # API Gateway infers the response when a function returns JSON without a statusCode.
    assert from_result({"message": "Hello from Lambda!"}) == (
        200,
        [("content-type", "application/json")],
        b'{"message": "Hello from Lambda!"}',
    )


def test_from_result_bare_string_is_200_body() -> None:
    assert from_result("Hello from Lambda!") == (
        200,
        [("content-type", "application/json")],
        b"Hello from Lambda!",
    )


def test_apigw_v2_and_from_result_round_trip_through_mangum() -> None:
    app = FastAPI()

    @app.get("/api/v1/hello/{name}")
    def hello(name: str, tag: str, response: Response) -> dict[str, str]:
        response.set_cookie("seen", "1")
        return {"hello": name, "tag": tag}

    @app.get("/logo.png")
    def logo() -> Response:
        return Response(PNG, media_type="image/png")

    handler: Any = Mangum(app, lifespan="off")  # called as Lambda calls it: (event, context)
    context = LambdaContext("hello")

    text = apigw_v2(
        request("GET", "/api/v1/hello/caf%C3%A9", "tag=a&tag=b", [("Cookie", "x=1")]),
        "GET /api/v1/hello/{name}",
        {"name": "café"},
        context.aws_request_id,
    )
    body = '{"hello":"café","tag":"b"}'.encode()
    assert from_result(handler(text, context)) == (
        200,
        [
            ("content-length", str(len(body))),
            ("content-type", "application/json"),
            ("set-cookie", "seen=1; Path=/; SameSite=lax"),
        ],
        body,
    )

    binary = apigw_v2(request("GET", "/logo.png"), "GET /logo.png", {}, context.aws_request_id)
    assert from_result(handler(binary, context)) == (
        200,
        [("content-length", "8"), ("content-type", "image/png")],
        PNG,
    )

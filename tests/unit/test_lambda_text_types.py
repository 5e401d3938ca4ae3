"""Every text type Quarry answers with comes back from the Lambda path as text
(`isBase64Encoded: false`), whatever the event shape; binary types stay base64."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.responses import Response
from mangum import Mangum

from emulator.table import load_handler, load_table
from shared.handlers.context import LambdaContext
from shared.handlers.http import TEXT_MIME_TYPES, create_app
from shared.lambda_events.http import HttpRequest, apigw_v2

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"

# Each kind of body Quarry emits: a path answering it, its content type, the exact body.
TEXT = {
    "json": ("application/json", '{"ok":true,"name":"café"}'),
    "html": ("text/html; charset=utf-8", "<!doctype html><p>Grüße</p>"),
    "csv": ("text/csv; charset=utf-8", "url,title\nhttps://example.org/,Ünïcode\n"),
    "xml": ("application/xml", '<?xml version="1.0"?><urlset><url/></urlset>'),
    "rss": ("application/rss+xml", "<rss><channel/></rss>"),
    "markdown": ("text/markdown; charset=utf-8", "# Title\n\n*émphasis*\n"),
    "svg": ("image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg"/>'),
    "css": ("text/css", "body{color:#222}"),
    "javascript": ("application/javascript", "void 0;"),
    "openapi": ("application/vnd.oai.openapi+json", '{"openapi":"3.1.0"}'),
}
BINARY = {
    "png": ("image/png", b"\x89PNG\r\n\x1a\n\x00\xff"),
    "gzip": ("application/gzip", b"\x1f\x8b\x08\x00\xff\xfe"),
    "octets": ("application/octet-stream", b"\x00\x01\x02\xfe"),
}

app = create_app("texttypes", title="text types")


@app.get("/t/{kind}")
async def answer(kind: str) -> Response:
    if kind in TEXT:
        media, body = TEXT[kind]
        return Response(body.encode(), media_type=media)
    media, raw = BINARY[kind]
    return Response(raw, media_type=media)


handler: Any = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)


def recorded(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def event_for(shape: str, path: str) -> dict[str, Any]:
    """A GET of `path` as API Gateway HTTP API (v2), REST API (v1) or an ALB hands it over."""
    if shape == "http-api":
        req = HttpRequest("GET", path, "", [("host", "quarry.example")], b"", "203.0.113.9")
        return apigw_v2(req, "GET /t/{kind}", {"kind": path.rsplit("/", 1)[-1]}, "req-1")
    event = copy.deepcopy(recorded("apigw-rest-v1-get.json" if shape == "rest" else "alb-get.json"))
    event["path"] = path
    if shape == "rest":
        event["requestContext"]["path"] = path
        event["resource"] = "/t/{kind}"
    return event


SHAPES = ["http-api", "rest", "alb"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", sorted(TEXT))
def test_lambda_text_types_come_back_as_text(shape: str, kind: str) -> None:
    result = handler(event_for(shape, f"/t/{kind}"), LambdaContext("texttypes"))
    media, body = TEXT[kind]
    assert (result["statusCode"], result["isBase64Encoded"], result["body"]) == (200, False, body)
    assert media in json.dumps(result.get("headers") or result.get("multiValueHeaders"))


@pytest.mark.parametrize("shape", SHAPES)
def test_lambda_problem_json_errors_come_back_as_text(shape: str) -> None:
    result = handler(event_for(shape, "/no/such/path"), LambdaContext("texttypes"))
    assert (result["statusCode"], result["isBase64Encoded"]) == (404, False)
    problem = json.loads(result["body"])
    assert (problem["status"], problem["title"]) == (404, "Not found")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", sorted(BINARY))
def test_lambda_binary_types_stay_base64(shape: str, kind: str) -> None:
    result = handler(event_for(shape, f"/t/{kind}"), LambdaContext("texttypes"))
    assert (result["statusCode"], result["isBase64Encoded"]) == (200, True)
    assert base64.b64decode(result["body"]) == BINARY[kind][1]


def test_lambda_text_types_are_the_same_list_for_every_http_function() -> None:
    table = load_table(ROOT / "serverless.yml")
    configured = {}
    for fn in table.http():
        found, _ = load_handler(fn)
        if isinstance(found, Mangum):  # `docs` answers with its own text bodies, no Mangum
            configured[fn.name] = found.config["text_mime_types"]
    assert len(configured) >= 10
    assert {name: types for name, types in configured.items() if types != TEXT_MIME_TYPES} == {}

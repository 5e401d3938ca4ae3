"""nginx.conf rendering: upstreams per port, the locations, the limits and the error bodies."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from emulator.stack.services.nginx import NginxPlan, render_nginx_conf
from emulator.stack.services.nginx_conf import HASHED_STATIC_RE
from shared import problems
from shared.errors import ConfigError

STATIC = Path("/srv/quarry/static")


BASE = NginxPlan(port=8080, api=[9001, 9002], web=[9101], static_dir=STATIC)


def plan(**changes: Any) -> NginxPlan:
    return replace(BASE, **changes)


def block(conf: str, opening: str) -> str:
    """The text of the block that starts with `opening {`, up to its closing brace."""
    start = conf.index(f"{opening} {{")
    depth = 0
    for i in range(start, len(conf)):
        depth += {"{": 1, "}": -1}.get(conf[i], 0)
        if conf[i] == "}" and depth == 0:
            return conf[start : i + 1]
    raise AssertionError(f"unclosed block {opening}")


def test_render_runs_in_the_foreground_with_paths_under_the_prefix() -> None:
    conf = render_nginx_conf(plan())
    assert "daemon off;" in conf
    assert "pid nginx.pid;" in conf
    assert "error_log stderr warn;" in conf
    assert re.search(r"^worker_processes [12];$", conf, re.M)
    assert 'access_log "/dev/stdout" quarry;' in conf
    temps = re.findall(r"^\s+(\w+)_temp_path (\S+);$", conf, re.M)
    assert sorted(temps) == [
        ("client_body", "client_body_temp"),
        ("fastcgi", "fastcgi_temp"),
        ("proxy", "proxy_temp"),
        ("scgi", "scgi_temp"),
        ("uwsgi", "uwsgi_temp"),
    ]
    assert "user " not in conf


def test_render_names_the_worker_user_only_when_asked() -> None:
    conf = render_nginx_conf(plan(), user="nobody nogroup")
    assert re.search(r"^user nobody nogroup;", conf, re.M)


def test_render_one_upstream_server_per_port_with_passive_checks() -> None:
    conf = render_nginx_conf(plan(api=[9001, 9002, 9003], web=[9101, 9102]))
    api = block(conf, "upstream api")
    servers = re.findall(r"server (\S+) (.*);", api)
    assert servers == [
        (f"127.0.0.1:{p}", "max_fails=1 fail_timeout=5s") for p in (9001, 9002, 9003)
    ]
    assert "keepalive 16;" in api
    web = block(conf, "upstream web")
    assert re.findall(r"server (127\.0\.0\.1:\d+)", web) == ["127.0.0.1:9101", "127.0.0.1:9102"]


def test_render_api_location_retries_idempotent_requests_once_elsewhere() -> None:
    api = block(render_nginx_conf(plan()), "location /api/")
    assert "proxy_pass http://api;" in api
    assert "proxy_next_upstream error timeout;" in api  # an instance's 502/503 is its answer
    assert "proxy_next_upstream_tries 2;" in api
    directives = [line for line in api.splitlines() if not line.strip().startswith("#")]
    assert not any("non_idempotent" in line for line in directives)
    assert "proxy_intercept_errors off;" in api
    pages = dict(re.findall(r"error_page (\d+) (@\w+);", api))
    assert pages == {s: f"@api_{s}" for s in ("413", "429", "502", "503", "504")}


def test_render_passes_request_id_and_forwarding_headers() -> None:
    conf = render_nginx_conf(plan())
    assert "proxy_set_header X-Request-Id $quarry_request_id;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    mapping = block(conf, "map $http_x_request_id $quarry_request_id")
    assert "default $request_id;" in mapping


def test_render_dashboard_static_metrics_and_health_locations() -> None:
    conf = render_nginx_conf(plan())
    assert "proxy_pass http://web;" in block(conf, "location /")
    static = block(conf, "location /static/")
    assert 'alias "/srv/quarry/static/";' in static
    assert "expires 3600s;" in static
    assert 'add_header Cache-Control "public";' in static
    assert "return 404;" in block(conf, "location = /metrics")
    assert "return 204;" in block(conf, "location = /__nginx_health")
    assert "proxy_pass" not in block(conf, "location = /metrics")


def test_render_hashed_static_names_map_to_the_file_and_are_immutable() -> None:
    conf = render_nginx_conf(plan())
    opening = f'location ~ "{HASHED_STATIC_RE}" {{'
    hashed = conf[conf.index(opening) : conf.index("}\n", conf.index(opening) + len(opening))]
    assert 'alias "/srv/quarry/static/$1.$2";' in hashed
    assert 'add_header Cache-Control "public, max-age=31536000, immutable";' in hashed
    pattern = re.compile(HASHED_STATIC_RE)
    assert pattern.match("/static/quarry.3f2a9c1b.css").groups() == ("quarry", "css")
    for plain in ("/static/quarry.css", "/static/../x.3f2a9c1b.css", "/static/a.3F2A9C1B.css"):
        assert pattern.match(plain) is None
    assert conf.index('location ~ "^/static/') < conf.index("location /static/ {")


def test_render_limits_body_size_and_rate() -> None:
    conf = render_nginx_conf(plan(max_body="2m", rate="7r/s", burst=3))
    assert "client_max_body_size 2m;" in conf
    assert "limit_req_zone $binary_remote_addr zone=quarry:1m rate=7r/s;" in conf
    assert "limit_req_status 429;" in conf
    assert "limit_req zone=quarry burst=3 nodelay;" in block(conf, "location /api/")
    assert "Retry-After 1 always;" in block(conf, "location @api_429")


@pytest.mark.parametrize("status", [413, 429, 502, 503, 504])
def test_render_api_errors_are_problem_json(status: int) -> None:
    named = block(render_nginx_conf(plan()), f"location @api_{status}")
    assert "default_type application/problem+json;" in named
    body = re.search(rf"return {status} '(.*)';", named)
    assert body is not None
    problem = json.loads(body.group(1).replace("$quarry_request_id", "abc"))
    slug = {413: "too-large", 429: "throttled", 502: "bad-gateway", 503: "unavailable"}
    assert problem["type"] == "https://quarry.dev/problems/" + slug.get(status, "timeout")
    assert problem == problems.problem(status, problem["detail"], "abc")  # the API's shape
    assert problem["status"] == status
    assert problem["request_id"] == "abc"
    assert set(problem) == {"type", "title", "status", "detail", "request_id"}


def test_render_dashboard_errors_are_html() -> None:
    named = block(render_nginx_conf(plan()), "location @page_502")
    assert 'default_type "text/html; charset=utf-8";' in named
    assert "<h1>Bad gateway</h1>" in named


@pytest.mark.parametrize(
    "changes",
    [
        {"api": []},
        {"web": [0]},
        {"max_body": "ten megs"},
        {"rate": "50/s"},
        {"static_dir": Path('/srv/"quoted"')},
    ],
)
def test_plan_rejects_values_nginx_cannot_take(changes: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        plan(**changes)

"""nginx.conf for the stack, as a pure function of a plan: balancing, static, limits, errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from shared.errors import ConfigError
from shared.problems import MEDIA_TYPE, problem, title_of

HEALTH_PATH = "/__nginx_health"
# The same request ids the API accepts (shared/handlers/http.py); anything else is replaced by
# nginx's own, which also keeps the id safe to print inside a JSON body.
REQUEST_ID_RE = "^[A-Za-z0-9._-]{1,128}$"
# nginx's own answers for /api/: (status, detail); type and title as the API words them.
API_ERRORS = (
    (413, "request bodies are limited to {max_body}"),
    (429, "rate limit reached; retry after the Retry-After seconds"),
    (502, "no API instance answered; quote the request id when reporting it"),
    (503, "no API instance is available; retry shortly"),
    (504, "the API instance did not answer in time"),
)
MIME_TYPES = (
    "text/html html htm; text/css css; text/plain txt; application/javascript js mjs; "
    "application/json json map; image/svg+xml svg; image/png png; image/jpeg jpg jpeg; "
    "image/x-icon ico; image/webp webp; font/woff2 woff2"
)
# Content-hashed asset names (dashboard/assets.py: quarry.3f2a9c1b.css) map to the plain file.
HASHED_STATIC_RE = r"^/static/([A-Za-z0-9_-]+)\.[0-9a-f]{8}\.([a-z0-9]+)$"
IMMUTABLE = "public, max-age=31536000, immutable"
_SIZE = re.compile(r"^[0-9]+[kKmMgG]?$")
_RATE = re.compile(r"^[0-9]+r/[sm]$")


@dataclass(frozen=True)
class NginxPlan:
    """What nginx fronts: its port, the API and dashboard instance ports, and the limits."""

    port: int
    api: list[int]
    web: list[int]
    static_dir: Path
    max_body: str = "1m"  # the default of QUARRY_MAX_BODY_BYTES; see size_of()
    rate: str = "50r/s"
    burst: int = 100
    static_max_age_s: int = 3600
    # "/dev/stdout", or a file name relative to the state folder (nginx's prefix)
    access_log: str = "/dev/stdout"

    def __post_init__(self) -> None:
        for name, ports in (("port", [self.port]), ("api", self.api), ("web", self.web)):
            if not ports or any(not 0 < p < 65536 for p in ports):
                raise ConfigError(f"nginx {name} needs ports in 1..65535, got {ports!r}")
        if not _SIZE.match(self.max_body):
            raise ConfigError(f"max_body {self.max_body!r} is not an nginx size such as 10m")
        if not _RATE.match(self.rate):
            raise ConfigError(f"rate {self.rate!r} is not an nginx rate such as 50r/s or 300r/m")
        if self.burst < 0 or self.static_max_age_s < 0:
            raise ConfigError("burst and static_max_age_s must not be negative")
        _quote(str(self.static_dir))
        _quote(self.access_log)


def size_of(max_body_bytes: int) -> str:
    """QUARRY_MAX_BODY_BYTES as an nginx size (rounded up to whole kilobytes)."""
    return f"{-(-max_body_bytes // 1024)}k"


def _quote(text: str) -> str:
    if any(c in text for c in "\"'\\$;{}\n\r\t") or not text:
        raise ConfigError(f"{text!r} cannot be written into nginx.conf; use a plainer path")
    return f'"{text}"'


def _upstream(name: str, ports: list[int]) -> str:
    servers = "".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in ports)
    return (
        f"    upstream {name} {{\n"
        f"        zone {name} 64k;  # round-robin and failure state shared by the workers\n"
        f"{servers}"
        "        keepalive 16;\n"
        "        # Under uvicorn's 5 s idle timeout: nginx never reuses a connection the instance\n"
        "        # is closing (a POST sent on one would fail and, rightly, not be retried).\n"
        "        keepalive_timeout 4s;\n"
        "    }\n"
    )


def _problem_location(status: int, detail: str) -> str:
    # nginx fills in the request id; the body sits in single quotes in the config
    body = json.dumps(problem(status, detail, "$quarry_request_id"), separators=(",", ":"))
    retry = "        add_header Retry-After 1 always;\n" if status == 429 else ""
    return (
        f"    location @api_{status} {{\n"
        f"        default_type {MEDIA_TYPE};\n"
        "        add_header X-Request-Id $quarry_request_id always;\n"
        f"{retry}"
        f"        return {status} '{body}';\n"
        "    }\n"
    )


def _page_location(status: int, title: str) -> str:
    html = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{status} {title}</title></head>"
        f"<body><h1>{title}</h1><p>Request id: $quarry_request_id</p></body></html>"
    )
    retry = "        add_header Retry-After 1 always;\n" if status == 429 else ""
    return (
        f"    location @page_{status} {{\n"
        '        default_type "text/html; charset=utf-8";\n'
        f"{retry}"
        f"        return {status} '{html}';\n"
        "    }\n"
    )


def _proxy(upstream: str, kind: str, plan: NginxPlan) -> str:
    errors = "".join(f"        error_page {s} @{kind}_{s};\n" for s, _ in API_ERRORS)
    return (
        f"        limit_req zone=quarry burst={plan.burst} nodelay;\n"
        f"        proxy_pass http://{upstream};\n"
        "        # Retry on another instance when one is down (refused, reset, silent). nginx\n"
        "        # never passes a non-idempotent request (POST, PATCH, LOCK) on once sent: the\n"
        "        # default, kept on purpose (no `non_idempotent`), so a write is never applied\n"
        "        # twice. An instance's own 502 (a function failed) or 503 (a dependency every\n"
        "        # instance shares is down) goes to the client as it is: retrying would invoke\n"
        "        # the function again, and counting it would mark a healthy instance failed.\n"
        "        proxy_next_upstream error timeout;\n"
        "        proxy_next_upstream_tries 2;\n"
        "        proxy_intercept_errors off;  # instances' own error bodies pass as they are\n"
        f"{errors}"
    )


def render_nginx_conf(plan: NginxPlan, *, user: str | None = None) -> str:
    """nginx.conf for `plan`, with relative paths resolved against nginx's prefix (`-p`).

    `user` is the "user group" the workers run as, needed only when the master runs as root.
    """
    types = "".join(f"        {t.strip()};\n" for t in MIME_TYPES.split(";"))
    user_line = f"user {user};  # the master stays root\n" if user else ""
    static = _quote(f"{str(plan.static_dir.resolve()).rstrip('/')}/")
    hashed = static[:-1] + '$1.$2"'  # the checked folder, then the regex's name and suffix
    api_pages = "".join(
        _problem_location(s, d.format(max_body=plan.max_body)) for s, d in API_ERRORS
    )
    web_pages = "".join(_page_location(s, title_of(s)) for s, _ in API_ERRORS)
    return (
        "# Generated by emulator/stack/services/nginx.py; rewritten on every start.\n"
        "daemon off;  # a foreground child of the stack's supervisor\n"
        f"{user_line}"
        "worker_processes 2;\n"
        "pid nginx.pid;\n"
        "error_log stderr warn;\n"
        "\n"
        "events { worker_connections 1024; }\n"
        "\n"
        "http {\n"
        "    types {\n"
        f"{types}"
        "    }\n"
        "    default_type application/octet-stream;\n"
        "    server_tokens off;\n"
        "    sendfile on;\n"
        "    keepalive_timeout 65s;\n"
        f"    client_max_body_size {plan.max_body};\n"
        "    client_body_temp_path client_body_temp;\n"
        "    proxy_temp_path proxy_temp;\n"
        "    fastcgi_temp_path fastcgi_temp;\n"
        "    uwsgi_temp_path uwsgi_temp;\n"
        "    scgi_temp_path scgi_temp;\n"
        "\n"
        "    map $http_x_request_id $quarry_request_id {\n"
        "        default $request_id;\n"
        f'        "~{REQUEST_ID_RE}" $http_x_request_id;\n'
        "    }\n"
        '    log_format quarry escape=json \'{"time":"$time_iso8601","logger":"nginx",'
        '"request_id":"$quarry_request_id","remote":"$remote_addr","method":"$request_method",'
        '"uri":"$request_uri","status":$status,"bytes":$body_bytes_sent,'
        '"seconds":$request_time,"upstream":"$upstream_addr",'
        '"upstream_status":"$upstream_status"}\';\n'
        f"    access_log {_quote(plan.access_log)} quarry;\n"
        "\n"
        f"    limit_req_zone $binary_remote_addr zone=quarry:1m rate={plan.rate};\n"
        "    limit_req_status 429;\n"
        "\n"
        f"{_upstream('api', plan.api)}"
        f"{_upstream('web', plan.web)}"
        "\n"
        "    server {\n"
        f"        listen 127.0.0.1:{plan.port};\n"
        "        proxy_http_version 1.1;\n"
        '        proxy_set_header Connection "";\n'
        "        proxy_set_header Host $http_host;\n"
        "        proxy_set_header X-Request-Id $quarry_request_id;\n"
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "        proxy_set_header X-Forwarded-Proto $scheme;\n"
        "        proxy_connect_timeout 2s;\n"
        "        proxy_read_timeout 30s;  # API Gateway's integration timeout\n"
        "\n"
        f"        location = {HEALTH_PATH} {{ access_log off; return 204; }}\n"
        "        # Not proxied: each instance serves its own /metrics on its own port.\n"
        "        location = /metrics { return 404; }\n"
        "        # A hashed name changes with its file's bytes: cached a year, never revalidated.\n"
        f'        location ~ "{HASHED_STATIC_RE}" {{\n'
        f"            alias {hashed};\n"
        f'            add_header Cache-Control "{IMMUTABLE}";\n'
        "        }\n"
        "        location /static/ {\n"
        f"            alias {static};\n"
        f"            expires {plan.static_max_age_s}s;\n"
        '            add_header Cache-Control "public";\n'
        "        }\n"
        "        location /api/ {\n"
        f"{_indent(_proxy('api', 'api', plan))}"
        "        }\n"
        "        location / {\n"
        f"{_indent(_proxy('web', 'page', plan))}"
        "        }\n"
        "\n"
        f"{_indent(api_pages)}"
        f"{_indent(web_pages)}"
        "    }\n"
        "}\n"
    )


def _indent(block: str) -> str:
    return "".join(f"    {line}" if line.strip() else line for line in block.splitlines(True))

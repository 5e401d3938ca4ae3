"""nginx in front of real loopback upstreams: balancing, retries, static files, limits, errors."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest

from emulator.stack.services.nginx import NginxPlan, NginxServer
from emulator.stack.services.ports import free_port

pytestmark = pytest.mark.stack

CSS = b"body { color: #222; }\n"
MISSING = json.dumps(
    {"type": "https://quarry.dev/problems/not-found", "title": "Not found", "status": 404}
).encode()
BUSY = json.dumps(
    {"type": "https://quarry.dev/problems/unavailable", "title": "Busy", "status": 503}
).encode()
PROBLEM = "application/problem+json"


class Upstream(ThreadingHTTPServer):
    """A tiny instance: answers JSON naming its port and what it received; records every hit.
    `/api/missing` and `/api/busy` answer their own problem+json 404 and 503; `/api/drop` reads
    the request and hangs up, as an instance that crashes mid-request does."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.port: int = self.server_address[1]
        self.hits: list[tuple[str, str]] = []
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.shutdown()
            self.thread.join()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: Upstream

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.hits.append((self.command, self.path))
        if self.path == "/api/drop":
            self.close_connection = True
            return
        if self.path == "/api/missing":
            self._send(404, PROBLEM, MISSING)
            return
        if self.path == "/api/busy":
            self._send(503, PROBLEM, BUSY)
            return
        seen = {
            "port": self.server.port,
            "method": self.command,
            "path": self.path,
            "request_id": self.headers.get("X-Request-Id"),
            "forwarded_for": self.headers.get("X-Forwarded-For"),
            "forwarded_proto": self.headers.get("X-Forwarded-Proto"),
            "body_bytes": len(body),
        }
        self._send(200, "application/json", json.dumps(seen).encode())

    do_POST = do_GET

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Stack:
    client: httpx.AsyncClient
    api: list[Upstream]
    web: Upstream

    def hits(self) -> int:
        return sum(len(u.hits) for u in [*self.api, self.web])


async def wait_for(what: str, check: Callable[[], Awaitable[bool]], deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {deadline_s}s waiting for {what}")


def make_base() -> Path:
    # Not under pytest's tmp dir: that is private to root, and nginx's workers run as nobody.
    base = Path(tempfile.mkdtemp(prefix="quarry-nginx-"))
    base.chmod(0o755)
    (base / "static").mkdir()
    (base / "static" / "quarry.css").write_bytes(CSS)
    return base


def start(server: NginxServer, log: Path) -> tuple[subprocess.Popen[bytes], BinaryIO]:
    server.prepare()
    out = log.open("wb")
    return subprocess.Popen(server.argv(), stdout=out, stderr=subprocess.STDOUT), out


@asynccontextmanager
async def running(**limits: Any) -> AsyncIterator[Stack]:
    """Two API upstreams and one dashboard upstream behind a fresh nginx, all stopped after."""
    base = make_base()
    api, web = [Upstream(), Upstream()], Upstream()
    plan = NginxPlan(
        port=free_port(),
        api=[u.port for u in api],
        web=[web.port],
        static_dir=base / "static",
        access_log="access.log",
        **limits,
    )
    server = NginxServer(base / "nginx", plan)
    proc, log = start(server, base / "nginx.log")
    try:
        what = f"nginx on port {plan.port} to answer /__nginx_health with 204"
        await wait_for(what, server.ready, 10.0)
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
            yield Stack(client, api, web)
    except BaseException:
        print((base / "nginx.log").read_text(encoding="utf-8", errors="replace"))
        raise
    finally:
        proc.send_signal(server.stop_signal)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        for upstream in [*api, web]:
            upstream.stop()
        shutil.rmtree(base, ignore_errors=True)


async def test_nginx_round_robins_api_requests_and_passes_request_ids() -> None:
    async with running() as stack:
        seen = [(await stack.client.get(f"/api/x?n={n}")).json() for n in range(4)]
        ports = [s["port"] for s in seen]
        assert set(ports) == {u.port for u in stack.api}
        assert all(a != b for a, b in itertools.pairwise(ports))
        assert [s["path"] for s in seen] == [f"/api/x?n={n}" for n in range(4)]
        assert all(len(s["request_id"]) == 32 for s in seen)  # nginx's own $request_id
        assert {(s["forwarded_for"], s["forwarded_proto"]) for s in seen} == {("127.0.0.1", "http")}
        mine = await stack.client.get("/api/x", headers={"X-Request-Id": "caller-id-1"})
        assert mine.json()["request_id"] == "caller-id-1"


async def test_nginx_retries_requests_an_instance_stopped_before_they_were_sent() -> None:
    async with running() as stack:
        stack.api[0].stop()
        gets = [await stack.client.get("/api/x") for _ in range(4)]
        assert [(r.status_code, r.json()["port"]) for r in gets] == [(200, stack.api[1].port)] * 4
        # A refused connection carried no request, so even a POST is safe to pass on.
        post = await stack.client.post("/api/x", content=b"{}")
        assert (post.status_code, post.json()["port"]) == (200, stack.api[1].port)


async def test_nginx_never_retries_a_post_an_instance_received() -> None:
    async with running() as stack:
        response = await stack.client.post(
            "/api/drop", content=b"{}", headers={"X-Request-Id": "post-1"}
        )
        assert response.status_code == 502
        assert response.headers["content-type"] == PROBLEM
        assert response.json() == {
            "type": "https://quarry.dev/problems/bad-gateway",
            "title": "Bad gateway",
            "status": 502,
            "detail": "no API instance answered; quote the request id when reporting it",
            "request_id": "post-1",
        }
        assert [len(u.hits) for u in stack.api] in ([1, 0], [0, 1])


async def test_nginx_retries_a_get_an_instance_received_once_elsewhere() -> None:
    async with running() as stack:
        response = await stack.client.get("/api/drop")
        assert response.status_code == 502
        assert response.json()["request_id"] == response.headers["x-request-id"]
        assert [u.hits for u in stack.api] == [[("GET", "/api/drop")]] * 2


async def test_nginx_passes_an_instance_problem_through_untouched() -> None:
    async with running() as stack:
        response = await stack.client.get("/api/missing")
        assert (response.status_code, response.headers["content-type"]) == (404, PROBLEM)
        assert response.content == MISSING
        assert stack.hits() == 1  # a 404 is an answer, not a failure to retry
        busy = await stack.client.get("/api/busy")
        assert (busy.status_code, busy.headers["content-type"]) == (503, PROBLEM)
        assert busy.content == BUSY  # the instance's own answer, passed on
        # a 503 is an answer too (a dependency every instance shares is down): not retried
        assert stack.hits() == 2


async def test_nginx_serves_static_assets_itself_with_caching() -> None:
    async with running() as stack:
        response = await stack.client.get("/static/quarry.css")
        assert (response.status_code, response.content) == (200, CSS)
        assert response.headers["content-type"] == "text/css"
        assert response.headers["cache-control"] == "max-age=3600, public"
        assert "expires" in response.headers
        hashed = await stack.client.get("/static/quarry.0123abcd.css")  # dashboard/assets.py names
        assert (hashed.status_code, hashed.content) == (200, CSS)
        assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert stack.hits() == 0


async def test_nginx_does_not_proxy_metrics() -> None:
    async with running() as stack:
        response = await stack.client.get("/metrics")
        assert response.status_code == 404
        assert stack.hits() == 0


async def test_nginx_routes_pages_to_the_dashboard() -> None:
    async with running() as stack:
        response = await stack.client.get("/runs?page=2")
        assert response.status_code == 200
        assert response.json()["port"] == stack.web.port
        assert response.json()["path"] == "/runs?page=2"


async def test_nginx_rejects_a_body_over_the_limit() -> None:
    async with running(max_body="1k") as stack:
        api = await stack.client.post("/api/x", content=b"x" * 4096)
        assert (api.status_code, api.headers["content-type"]) == (413, PROBLEM)
        assert api.json()["status"] == 413
        assert api.json()["detail"] == "request bodies are limited to 1k"
        page = await stack.client.post("/form", content=b"x" * 4096)
        assert page.status_code == 413
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert stack.hits() == 0


async def test_nginx_rate_limits_a_burst_with_retry_after() -> None:
    async with running(rate="1r/s", burst=2) as stack:
        responses = [await stack.client.get("/api/x") for _ in range(8)]
        statuses = [r.status_code for r in responses]
        assert statuses[0] == 200
        assert 429 in statuses
        for limited in (r for r in responses if r.status_code == 429):
            assert limited.headers["retry-after"] == "1"
            assert limited.headers["content-type"] == PROBLEM
            problem = limited.json()
            assert (problem["status"], problem["title"]) == (429, "Too many requests")
            assert problem["request_id"] == limited.headers["x-request-id"]
        page = await stack.client.get("/")
        assert (page.status_code, page.headers["retry-after"]) == (429, "1")
        assert page.headers["content-type"] == "text/html; charset=utf-8"

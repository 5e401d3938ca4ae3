"""One `quarry up` per test session, on free ports, in a scratch folder; torn down with
`quarry down`, which must leave no process behind."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from dashboard.passwords import hash_password
from emulator.artefacts.stack import PACKAGE
from emulator.demo import serve_site
from emulator.stack.services.ports import is_free
from emulator.table import _CfnLoader as CfnLoader
from tests.conftest import ROOT

UP_DEADLINE_S = 300  # generous: a loaded CI machine starts the stack slowly
# `quarry down` drains for at most the longest function timeout; generous for a loaded machine
DOWN_DEADLINE_S = 180
# Auth is on in the stack: the session's admin key, accepted by its hash (no database row).
API_KEY = "qk_stack-tests-bootstrap-admin-key-0123456789"
# The dashboard asks for a login in the stack; the client logs in with the admin key.
DASHBOARD_PASSWORD = "stack tests dashboard password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Short timeouts make a reclaimed message come back quickly (timeout + a 5 s margin).
TIMEOUTS = {"discovery": 10, "extraction": 6, "intelligence": 10, "analytics": 10}


def wait_for(what: str, check: Callable[[], Any], deadline_s: float, every: float = 0.2) -> Any:
    """Poll `check` until truthy; fail naming what was awaited and the last value seen."""
    end = time.monotonic() + deadline_s
    last: Any = None
    while time.monotonic() < end:
        try:
            last = check()
        except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    raise AssertionError(f"timed out after {deadline_s:.0f} s waiting for {what}; last: {last!r}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def page(path: str) -> str:
    """A distinct article per path: its words are drawn from a seed of the path, so two
    paths never look like near-duplicates."""
    rng = random.Random(path)
    words = [
        f"{rng.choice('bcdfghklmnprstvz')}{rng.choice('aeiou')}{rng.randint(10, 99999)}"
        for _ in range(400)
    ]
    sentences = [" ".join(words[i : i + 12]).capitalize() + "." for i in range(0, 400, 12)]
    return (
        f"<html lang='en'><head><title>Slow {path}</title></head><body><article><p>"
        + " ".join(sentences)
        + "</p></article></body></html>"
    )


class SlowSite:
    """Pages that answer slowly on their first request, to catch a worker mid-task."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.requests: list[str] = []
        self.spans: list[tuple[str, float, float]] = []
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        self.first_seen = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/robots.txt":  # no robots.txt: everything allowed, at once
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                site.requests.append(self.path)
                began = time.monotonic()
                if self.path.startswith(("/killed", "/drain")):
                    if site.requests.count(self.path) == 1:  # slow only the first time
                        site.first_seen.set()
                        time.sleep(site.delay_s)
                elif not self.path.startswith("/bulk-"):  # bulk pages answer at once
                    time.sleep(0.3)  # long enough that two workers would overlap if allowed
                body = page(self.path).encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                site.spans.append((self.path, began, time.monotonic()))

            def do_POST(self) -> None:  # a webhook subscriber: records what it is sent
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                site.posts.append((self.path, headers, body))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Stack:
    root: Path
    table: Path
    env: dict[str, str]
    demo: str = ""
    proc: subprocess.Popen[bytes] | None = None
    entry: str = ""
    started_s: list[float] = field(default_factory=list)
    options: tuple[str, ...] = ("--workers", "extraction=2")  # of `quarry up`
    up_deadline_s: float = UP_DEADLINE_S

    @property
    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.root / ".quarry/stack/stack.json").read_text()))

    def service(self, name: str) -> dict[str, Any]:
        return dict(self.state["services"][name])

    def quarry(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def up(self) -> None:
        began = time.monotonic()
        log = (self.root / "up.out").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "up",
                "--table",
                str(self.table),
                *self.options,
            ],
            cwd=self.root,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"quarry up exited: {(self.root / 'up.out').read_text()}")
            path = self.root / ".quarry/stack/stack.json"
            return path.exists() and json.loads(path.read_text()).get("ready") is True

        wait_for("quarry up to report every service healthy", ready, self.up_deadline_s)
        self.entry = self.service("nginx")["url"]
        self.started_s.append(time.monotonic() - began)

    def down(self) -> float:
        began = time.monotonic()
        try:
            result = self.quarry("down", timeout=DOWN_DEADLINE_S)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"quarry down did not return within {DOWN_DEADLINE_S} s") from None
        assert result.returncode == 0, result.stderr
        if self.proc is not None:
            try:
                self.proc.wait(timeout=DOWN_DEADLINE_S)
            except subprocess.TimeoutExpired:
                raise AssertionError(
                    f"quarry up did not exit within {DOWN_DEADLINE_S} s of quarry down"
                ) from None
        return time.monotonic() - began

    def terminate(self) -> None:
        """SIGTERM the supervisor, as Ctrl-C or a process manager would."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=90)

    def client(self) -> httpx.Client:
        """A client of the entry URL carrying the stack's admin API key (auth is on), logged
        in to the dashboard with it, as an operator's browser would be."""
        with httpx.Client(base_url=self.entry, timeout=30, trust_env=False) as browser:
            form = browser.get("/login")
            found = CSRF.search(form.text)
            assert found, f"the dashboard's login page has no form: {form.status_code}"
            done = browser.post("/login", data={"password": API_KEY, "csrf_token": found[1]})
            assert done.status_code == 303, f"logging in to the dashboard failed: {done.text}"
            cookies = httpx.Cookies(browser.cookies)
        headers = {"authorization": f"Bearer {API_KEY}"}
        return httpx.Client(
            base_url=self.entry, timeout=30, trust_env=False, headers=headers, cookies=cookies
        )


# The groups that take longest (measured: the shared stack's tests about 150 s, the artefact
# stack with its packaging about 140 s, `bench all --quick` about 85 s), handed out first so
# that the two workers end together; the rest follow in file order.
LONGEST_FIRST = ("shared-stack", "tests.stack.test_aws_artefacts", "tests.stack.test_bench")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One xdist group per worker-sized piece: every test of the session's shared stack in one
    (they run in file order on one worker, against one stack; test_zz_* last), each other
    module in its own (its module-scoped stack or service is started once)."""
    here = Path(__file__).parent
    groups: dict[str, str] = {}
    for item in items:
        if here not in item.path.parents:  # `pytest tests` collects the other tiers too
            continue
        group = "shared-stack" if "stack" in item.fixturenames else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(group))
        groups[item.nodeid] = group
    rank = {g: i for i, g in enumerate(LONGEST_FIRST)}
    places = [i for i, item in enumerate(items) if item.nodeid in groups]  # the stack tier's
    ordered = sorted(
        (items[i] for i in places), key=lambda item: rank.get(groups[item.nodeid], len(rank))
    )
    for i, item in zip(places, ordered, strict=True):  # stable: file order within a group
        items[i] = item


def pytest_collection_finish(session: pytest.Session) -> None:
    """On a loadgroup worker, every test carries its group in its node id (how the scheduler
    learns it); without it each worker would start its own shared stack."""
    if not session.config.getoption("loadgroup", False):
        return
    here = Path(__file__).parent
    ungrouped = [
        item.nodeid
        for item in session.items
        if here in item.path.parents and "@" not in item.nodeid
    ]
    if ungrouped:
        raise pytest.UsageError(
            f"pytest-xdist's --dist loadgroup did not group {ungrouped[:3]} (with pytest 9.2, "
            "pytest-dev/pytest-xdist#1386): each worker would start its own shared stack"
        )


@pytest.fixture(scope="session")
def packaged() -> Path:
    """`quarry package`, as a user runs it: the layer, `serverless package` and the unpacked
    functions in .quarry/package, built once (a second caller, even on another worker, waits
    for the first and reuses it)."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "package"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,  # a first build beside other work: the layer's install and the node CLI
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return PACKAGE


@pytest.fixture(scope="session")
def slow_site() -> Iterator[SlowSite]:
    site = SlowSite(delay_s=4.0)
    yield site
    site.close()


@pytest.fixture(scope="session")
def stack(slow_site: SlowSite) -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="quarry-up-"))
    root.chmod(0o711)
    table = yaml.load((ROOT / "serverless.yml").read_text(), Loader=CfnLoader)
    for name, seconds in TIMEOUTS.items():
        table["functions"][name]["timeout"] = seconds
    table_path = root / "serverless.yml"
    table_path.write_text(yaml.safe_dump(table))
    with serve_site() as demo:
        hosts = f"{demo.split('//')[1]},{slow_site.base.split('//')[1]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")}
        env |= {
            "QUARRY_FETCH_ALLOW_HOSTS": hosts,
            "QUARRY_RETRY_BACKOFF_S": "0.05",
            # no QUARRY_SECRET_KEY: `quarry up` makes and keeps one, as for everyone
            "QUARRY_DASHBOARD_PASSWORD_HASH": hash_password(DASHBOARD_PASSWORD),
            "QUARRY_BOOTSTRAP_API_KEY": API_KEY,  # an admin key without any API call
            "PYTHONPATH": str(ROOT),
        }
        stack = Stack(root, table_path, env, demo=demo)
        stack.up()
        try:
            yield stack
        finally:
            services = stack.state.get("services", {}).values()
            pids = [s["pid"] for s in services]
            ports = [s["port"] for s in services if s["port"]]
            took = stack.down()
            print(f"\nquarry down took {took:.1f} s")
            leftovers = [pid for pid in pids if alive(pid)]
            bound = [port for port in ports if not is_free(port)]
            shutil.rmtree(root, ignore_errors=True)
            assert not leftovers, f"quarry down left processes behind: {leftovers}"
            assert not bound, f"quarry down left ports bound: {bound}"

"""`quarry bench load`: the running stack driven through nginx by a mix of reads, writes and
signed webhooks at a fixed rate for a fixed time, on loopback; it stops by itself and reports
the error rate, p50/p99 latency and each stack process's memory growth.

Requests are sent on a schedule (open loop): request i leaves at i / rate seconds, and its
latency counts from then, so a stalled server shows as latency rather than as fewer requests.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from rich.table import Table as RichTable

from shared.webhooks.signature import sign_standard
from tools.bench.load import BenchError, Connection, percentile

KINDS = ("read", "write", "webhook")
READS = ("/api/v1/runs?limit=20", "/api/v1/sources?limit=20", "/api/v1/health", "/")
CONNECTIONS = 16
# A URL the fetcher refuses at once (loopback, not listed): runs the webhooks start end quickly.
UNFETCHABLE = "http://127.0.0.1:9/quarry-bench"


@dataclass(frozen=True)
class Mix:
    """Shares of reads, writes and webhooks; `pick(i)` spreads them evenly over the schedule."""

    read: int = 70
    write: int = 20
    webhook: int = 10

    @classmethod
    def parse(cls, text: str) -> Mix:
        try:
            read, write, webhook = (int(part) for part in text.split(":"))
        except ValueError:
            raise BenchError(
                f"--mix {text!r} is not READS:WRITES:WEBHOOKS, e.g. 70:20:10"
            ) from None
        if min(read, write, webhook) < 0 or read + write + webhook == 0:
            raise BenchError(f"--mix {text!r}: shares are whole numbers >= 0, not all 0")
        return cls(read, write, webhook)

    def pick(self, i: int) -> str:
        slot = (i * 7919) % (self.read + self.write + self.webhook)  # a fixed, well-mixed order
        if slot < self.read:
            return "read"
        return "write" if slot < self.read + self.write else "webhook"


@dataclass
class KindFigures:
    sent: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class ProcessMemory:
    rss_before_kb: int
    rss_after_kb: int

    @property
    def growth_kb(self) -> int:
        return self.rss_after_kb - self.rss_before_kb


@dataclass
class LoadReport:
    url: str
    rate: float
    duration_s: float
    elapsed_s: float
    sent: int
    errors: int
    error_rate: float
    p50_ms: float
    p99_ms: float
    kinds: dict[str, KindFigures]
    processes: dict[str, ProcessMemory]
    notes: list[str]

    def to_json(self) -> str:
        data = asdict(self)
        for name, mem in self.processes.items():
            data["processes"][name]["growth_kb"] = mem.growth_kb
        return json.dumps(data, indent=2)


def rss_kb(session: int) -> int:
    """Resident memory of every process in a session (a service and its children, as the
    supervisor starts each service in a session of its own), from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != session:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def memory(services: dict[str, Any]) -> dict[str, int]:
    return {name: rss_kb(int(svc["pid"])) for name, svc in services.items()}


class Requests:
    """The raw bytes of each kind of request, built fresh where they must differ."""

    def __init__(self, host: str, key: str | None, webhook: tuple[str, str] | None) -> None:
        self.host = host
        self.auth = f"X-Api-Key: {key}\r\n" if key else ""
        self.webhook = webhook
        self.count = 0

    def _raw(self, method: str, path: str, body: bytes = b"", extra: str = "") -> bytes:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.auth}{extra}"
        if method != "GET":
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return (head + "\r\n").encode() + body

    def build(self, kind: str, i: int) -> bytes:
        if kind == "read":
            return self._raw("GET", READS[i % len(READS)])
        if kind == "write":
            source = {"name": f"bench-{i}", "kind": "urls", "urls": [f"{UNFETCHABLE}/{i}"]}
            return self._raw("POST", "/api/v1/sources", json.dumps(source).encode())
        assert self.webhook is not None
        source_id, secret = self.webhook
        body = json.dumps({"event": "bench", "n": i}).encode()
        msg_id, now = f"bench-{uuid.uuid4().hex}", int(time.time())
        signed = (
            f"webhook-id: {msg_id}\r\nwebhook-timestamp: {now}\r\n"
            f"webhook-signature: {sign_standard(secret, msg_id, now, body)}\r\n"
        )
        return self._raw("POST", f"/api/v1/webhooks/{source_id}", body, signed)


def prepare_webhook(client: httpx.Client) -> tuple[tuple[str, str] | None, str | None]:
    """A source whose webhook deliveries are signed (Standard Webhooks) with a new secret;
    (None, why) when the stack has no webhook route."""
    created = client.post(
        "/api/v1/sources", json={"name": "bench-webhooks", "kind": "urls", "urls": [UNFETCHABLE]}
    )
    if created.status_code != 201:
        raise BenchError(
            f"could not create the webhook source: {created.status_code} {created.text}"
        )
    source_id = str(created.json()["id"])
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    config = client.put(
        f"/api/v1/sources/{source_id}/webhook", json={"scheme": "standard", "secrets": [secret]}
    )
    if config.status_code in (404, 405):
        return None, "webhooks not driven: the stack has no webhook route"
    if config.status_code >= 300:
        raise BenchError(f"could not configure the webhook: {config.status_code} {config.text}")
    return (source_id, secret), None


async def drive(
    port: int, requests: Requests, mix: Mix, rate: float, duration_s: float
) -> tuple[dict[str, list[float]], dict[str, Counter[str]], float]:
    """Send `rate * duration_s` requests on schedule over a pool of keep-alive connections."""
    total = max(1, int(rate * duration_s))
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    statuses: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    loop = asyncio.get_running_loop()

    async def sender() -> None:
        conn: Connection | None = None
        while (item := await queue.get()) is not None:
            i, due = item
            kind = mix.pick(i)
            try:
                conn = conn or await Connection.open(port)
                status = str(await conn.get(requests.build(kind, i)))
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                status = type(exc).__name__
                if conn is not None:
                    await conn.close()
                conn = None  # a fresh connection for the next request
            latencies[kind].append(loop.time() - due)
            statuses[kind][status] += 1
        if conn is not None:
            await conn.close()

    senders = [asyncio.create_task(sender()) for _ in range(CONNECTIONS)]
    start = loop.time()
    for i in range(total):
        await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
        queue.put_nowait((i, start + i / rate))
    for _ in senders:
        queue.put_nowait(None)
    await asyncio.gather(*senders)
    return latencies, statuses, loop.time() - start


def is_error(status: str) -> bool:
    return not status.isdigit() or int(status) >= 400


def figures(latencies: list[float], statuses: Counter[str]) -> KindFigures:
    ordered = sorted(latencies)
    return KindFigures(
        sent=len(ordered),
        errors=sum(n for s, n in statuses.items() if is_error(s)),
        p50_ms=percentile(ordered, 0.50) * 1000 if ordered else 0.0,
        p99_ms=percentile(ordered, 0.99) * 1000 if ordered else 0.0,
        statuses=dict(sorted(statuses.items())),
    )


def run_load(
    state: dict[str, Any], key: str | None, mix: Mix, rate: float, duration_s: float
) -> LoadReport:
    """Drive the stack described by `state` (its stack.json) and report."""
    services: dict[str, Any] = state.get("services") or {}
    if "nginx" not in services:
        raise BenchError("no running stack here (no nginx in .quarry/stack); run `quarry up`")
    url = str(services["nginx"]["url"])
    notes: list[str] = []
    headers = {"x-api-key": key} if key else {}
    with httpx.Client(base_url=url, headers=headers, timeout=10, trust_env=False) as client:
        probe = client.get("/api/v1/runs", params={"limit": 1})
        if probe.status_code == 401:
            raise BenchError("the stack asks for an API key: pass --api-key (or QUARRY_API_KEY)")
        webhook, why = prepare_webhook(client) if mix.webhook else (None, None)
    if why:
        notes.append(why)
        mix = Mix(mix.read, mix.write, 0)
    requests = Requests(urlsplit(url).netloc, key, webhook)
    before = memory(services)
    port = int(urlsplit(url).port or 80)
    latencies, statuses, elapsed = asyncio.run(drive(port, requests, mix, rate, duration_s))
    after = memory(services)
    kinds = {kind: figures(latencies[kind], statuses[kind]) for kind in KINDS}
    every: list[float] = [x for kind in KINDS for x in latencies[kind]]
    overall = figures(every, sum(statuses.values(), Counter()))
    return LoadReport(
        url=url,
        rate=rate,
        duration_s=duration_s,
        elapsed_s=elapsed,
        sent=overall.sent,
        errors=overall.errors,
        error_rate=overall.errors / overall.sent if overall.sent else 0.0,
        p50_ms=overall.p50_ms,
        p99_ms=overall.p99_ms,
        kinds=kinds,
        processes={n: ProcessMemory(before[n], after.get(n, 0)) for n in sorted(before)},
        notes=notes,
    )


def render(report: LoadReport) -> list[RichTable | str]:
    """The report as the terminal shows it: requests by kind, memory by process, a summary."""
    requests = RichTable("requests", "sent", "errors", "p50 ms", "p99 ms", "statuses")
    overall = KindFigures(report.sent, report.errors, report.p50_ms, report.p99_ms)
    for kind, f in [("all", overall), *report.kinds.items()]:
        shown = " ".join(f"{s}×{n}" for s, n in f.statuses.items())
        requests.add_row(
            kind, str(f.sent), str(f.errors), f"{f.p50_ms:.1f}", f"{f.p99_ms:.1f}", shown
        )
    memory = RichTable("process", "RSS before MiB", "RSS after MiB", "growth MiB")
    for name, mem in report.processes.items():
        memory.add_row(
            name,
            f"{mem.rss_before_kb / 1024:.1f}",
            f"{mem.rss_after_kb / 1024:.1f}",
            f"{mem.growth_kb / 1024:+.1f}",
        )
    summary = (
        f"{report.sent} requests at {report.rate:g}/s in {report.elapsed_s:.1f} s · "
        f"error rate {report.error_rate:.2%} · p50 {report.p50_ms:.1f} ms · "
        f"p99 {report.p99_ms:.1f} ms"
    )
    return [requests, memory, summary, *(f"note: {note}" for note in report.notes)]

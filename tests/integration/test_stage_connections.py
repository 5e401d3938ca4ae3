"""A stage invocation holds at most one database connection, and none while it fetches a page
or waits on an LLM; and a pool of one connection, no overflow, serves many invocations at once.

The servers a stage talks to hold each request until the process holds no connection at all
(other cores of the batch may be reading for a moment): a stage holding one across the
request would keep it held until the answer, so the wait would run out instead."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from emulator.gateway import GATEWAY_CONCURRENCY
from emulator.platform import PLATFORM_CONNECTIONS, STAGE_INVOCATIONS, Embedded, embedded
from functions.stages import extraction, intelligence
from shared import ports
from shared.composition import build_runtime
from shared.config import Settings
from shared.config_load import load_settings
from shared.db import migrate
from shared.db.engine import SqlDatabase
from shared.db.models import Document, LlmCall, Run, Source, StageResult
from shared.handlers.context import LambdaContext
from shared.lambda_events.sqs import message_record
from shared.ports import Database
from shared.runs import start_run
from tests.conftest import ROOT
from tests.functions import flow, probe
from tests.integration.conftest import poll
from tests.integration.llm_servers import LLMServer, Reply

TABLE = ROOT / "tests/functions/serverless.yml"
ARTICLES = sorted((ROOT / "tests/sites/demo/articles").glob("*.html"))


HOLD_DEADLINE_S = 20.0


def released(db: Database | None) -> bool:
    """Wait until the process holds no connection; False if it still does at the deadline."""
    assert db is not None
    end = time.monotonic() + HOLD_DEADLINE_S
    while db.checked_out():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


class Watched(ThreadingHTTPServer):
    """Serves the demo articles, each once the process holds no connection."""

    def __init__(self) -> None:
        self.db: Database | None = None
        self.released: list[bool] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Watched

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.released.append(released(self.server.db))
        if self.path == "/robots.txt":
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        body = ARTICLES[int(self.path.strip("/").split(".")[0])].read_bytes()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def running(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def seed(platform: Embedded, urls: Sequence[str], **doc: Any) -> list[dict[str, Any]]:
    """A running run over one document per URL; the SQS records of their next stage."""
    async with platform.runtime.db.writer() as s:
        source = Source(name="watched", kind="urls", urls=list(urls))
        s.add(source)
        await s.flush()
        run = Run(source_id=source.id, state="running", discovered=len(urls))
        docs = [Document(source_id=source.id, url=u, **doc) for u in urls]
        s.add_all([run, *docs])
    ids = {"run_id": run.id, "source_id": source.id}
    return [{**ids, "document_id": d.id, "url": d.url} for d in docs]


async def test_stage_connections_none_held_while_extraction_fetches(settings: Settings) -> None:
    server = Watched()
    with running(server) as host:
        cfg = settings.model_copy(update={"fetch_allow_hosts": (host,)})
        async with embedded(cfg, TABLE, background=False, flow=flow.PIPELINE) as platform:
            server.db = platform.runtime.db
            pool = platform.runtime.db.pool_size
            bodies = await seed(platform, [f"http://{host}/{i}.html" for i in range(3)])
            batch = {"Records": [message_record("extraction", b) for b in bodies]}
            ctx = LambdaContext("extraction", timeout_s=30)
            result = await extraction.handler.process(batch, ctx)
            async with platform.runtime.db.reader() as s:
                done = await s.scalar(
                    select(func.count()).where(
                        StageResult.stage == "extraction", StageResult.status == "succeeded"
                    )
                )
    assert result == {"batchItemFailures": []}
    assert done == 3
    # sized from the concurrency: stage and HTTP invocations on the loop, and the platform's own
    assert pool == STAGE_INVOCATIONS + GATEWAY_CONCURRENCY + PLATFORM_CONNECTIONS
    assert server.released == [True] * 4  # robots.txt, then the three pages


class WatchedLLM(LLMServer):
    """The loopback OpenAI-compatible server, noting the connections held while it answers."""

    db: Database | None = None
    released: list[bool]

    def answer(self, path: str, body: dict[str, Any], text: str, reply: Reply) -> Any:
        self.released.append(released(self.db))
        return super().answer(path, body, text, reply)


async def test_stage_connections_none_held_while_intelligence_waits_on_the_llm(
    tmp_path: Path,
) -> None:
    llm = WatchedLLM(latency_s=0.05)
    llm.released = []
    thread = threading.Thread(target=llm.httpd.serve_forever, daemon=True)
    thread.start()
    cfg = load_settings(
        {
            "QUARRY_ENV": "test",
            "QUARRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/quarry.db",
            "QUARRY_LLM_PROVIDER": "openai",
            "QUARRY_LLM_BASE_URL": llm.base + "/v1",
            "QUARRY_LLM_API_KEY": "sk-connections-test",
            "QUARRY_LLM_RUN_BUDGET_TOKENS": "1000000",  # so each call reserves and settles
            "QUARRY_SECRET_KEY": "test-secret-that-must-never-leak-0123456789",
        }
    )
    try:
        async with embedded(cfg, TABLE, background=False, flow=flow.PIPELINE) as platform:
            llm.db = platform.runtime.db
            text = "The city library opens a new reading room for children this week. " * 20
            bodies = await seed(platform, ["https://a.test/1", "https://a.test/2"], text=text)
            for body in bodies:
                body.pop("url")
            batch = {"Records": [message_record("intelligence", b) for b in bodies]}
            result = await intelligence.handler.process(batch, LambdaContext("intelligence"))
            async with platform.runtime.db.reader() as s:
                calls = await s.scalar(select(func.count()).select_from(LlmCall))
    finally:
        llm.httpd.shutdown()
        llm.httpd.server_close()
        thread.join()
    assert result == {"batchItemFailures": []}
    assert calls is not None
    assert calls > 0  # budget reservations and call records went through the stage
    assert llm.released == [True] * calls


class Sent:
    """The dispatch port's twin: keeps what was sent, by stage."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[dict[str, Any]]] = {}

    async def send(self, stage: str, bodies: Sequence[dict[str, Any]]) -> None:
        self.bodies.setdefault(stage, []).extend(bodies)


async def test_stage_connections_a_pool_of_one_serves_sixteen_invocations_at_once(
    settings: Settings,
) -> None:
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    db = SqlDatabase(settings.database_url, pool_size=1)  # one connection, no overflow
    ports.install(replace(build_runtime(settings, dispatcher=Sent(), flow=flow.PROBE), db=db))
    probe.attempts.clear()
    try:
        async with db.writer() as s:
            source = Source(name="pool", kind="urls", urls=[])
            s.add(source)
            await s.flush()
            run = Run(source_id=source.id, state="running", discovered=160)
            urls = [f"http://p.test/{i}/read" for i in range(160)]
            docs = [Document(source_id=source.id, url=u) for u in urls]
            s.add_all([run, *docs])
        ids = {"run_id": run.id, "source_id": source.id}
        records = [
            message_record("probe", {**ids, "document_id": d.id, "url": d.url}) for d in docs
        ]
        ctx = LambdaContext("probe", timeout_s=60)
        chunks = [records[i : i + 10] for i in range(0, len(records), 10)]
        results = await asyncio.gather(
            *(probe.handler.process({"Records": b}, ctx) for b in chunks)
        )
        async with db.writer() as s:
            counted = await s.scalar(select(Run.documents_final).where(Run.id == run.id))
    finally:
        ports.install(None)
        await db.dispose()
    assert results == [{"batchItemFailures": []}] * 16  # none waited on a second connection
    assert counted == 160


async def test_stage_connections_one_invocation_holds_one_connection_at_most(
    settings: Settings,
) -> None:
    probe.attempts.clear()
    probe.held.clear()
    async with embedded(settings, TABLE, background=False, flow=flow.PROBE) as platform:
        bodies = await seed(platform, [f"http://p.test/{i}/read" for i in range(10)])
        batch = {"Records": [message_record("probe", b) for b in bodies]}
        result = await probe.handler.process(batch, LambdaContext("probe", timeout_s=30))
    assert result == {"batchItemFailures": []}
    # ten cores read at once, in a pool with room for ten: each read held the only one
    assert probe.held == [1] * 10


async def test_stage_connections_the_broker_runs_its_invocations_and_no_more(
    settings: Settings,
) -> None:
    probe.busy.update(now=0, peak=0)
    urls = [f"http://p.test/{i}/busy" for i in range(30)]
    async with embedded(settings, TABLE, background=False, flow=flow.PROBE, invocations=2) as p:
        async with p.runtime.db.writer() as s:
            source = Source(name="busy", kind="urls", urls=urls)
            s.add(source)
        await start_run(p.runtime, source.id)  # discovery sends 30: three batches of ten

        async def final() -> Run | None:
            async with p.runtime.db.reader() as s:
                run = (await s.scalars(select(Run).where(Run.source_id == source.id))).one()
            return run if run.state == "succeeded" else None

        await poll("the busy run to finish", final)
        await p.idle()
    assert p.runtime.db.pool_size == 2 + GATEWAY_CONCURRENCY + PLATFORM_CONNECTIONS
    assert 1 <= probe.busy["peak"] <= 2 * 10  # two invocations of ten at most, not three

"""Dedup across runs: a page whose server answers 304 to If-None-Match is not analysed again."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import func, select

from emulator.platform import Embedded, embedded
from shared.config import Settings
from shared.db.models import Document, Insight, StageResult
from tests.conftest import ROOT
from tests.integration.conftest import poll

ETAG = '"v1-flood-barrier"'
BODY = (ROOT / "tests/sites/extraction/news-sidebar-comments.html").read_bytes()


class EtagHandler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []  # (path, If-None-Match) per request

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("if-none-match")))
        if self.headers.get("if-none-match") == ETAG:
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("ETag", ETAG)
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def etag_site() -> Iterator[str]:
    EtagHandler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), EtagHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def etag_platform(settings: Settings, etag_site: str) -> AsyncIterator[Embedded]:
    cfg = settings.model_copy(update={"fetch_allow_hosts": (etag_site.split("//", 1)[1],)})
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as p:
        yield p


@pytest.fixture
async def etag_client(etag_platform: Embedded) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=etag_platform.gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://quarry.test") as c:
        yield c


async def run_once(client: httpx.AsyncClient, source_id: str) -> dict[str, Any]:
    started = (await client.post("/api/v1/runs", json={"source_id": source_id})).json()

    async def final() -> dict[str, Any] | None:
        run = (await client.get(f"/api/v1/runs/{started['id']}")).json()
        return run if run["state"] not in ("queued", "running") else None

    return dict(await poll("the run to finish", final))


async def test_extraction_unchanged_page_is_skipped_on_the_next_run(
    etag_platform: Embedded, etag_client: httpx.AsyncClient, etag_site: str
) -> None:
    body = {"name": "etag", "kind": "urls", "urls": [f"{etag_site}/flood.html"]}
    source = (await etag_client.post("/api/v1/sources", json=body)).json()
    first = await run_once(etag_client, source["id"])
    second = await run_once(etag_client, source["id"])

    assert first["state"] == second["state"] == "succeeded"
    assert first["stages"]["intelligence"]["succeeded"] == 1
    assert second["stages"]["extraction"] == {"succeeded": 0, "failed": 0, "skipped": 1}
    page_fetches = [etag for path, etag in EtagHandler.seen if path == "/flood.html"]
    assert page_fetches == [None, ETAG]  # the second fetch was conditional
    async with etag_platform.runtime.db.reader() as s:
        detail = await s.scalar(
            select(StageResult.detail).where(
                StageResult.run_id == second["id"], StageResult.stage == "extraction"
            )
        )
        analysed_again = await s.scalar(
            select(func.count()).where(
                StageResult.run_id == second["id"], StageResult.stage == "intelligence"
            )
        )
        insights = await s.scalar(select(func.count()).select_from(Insight))
        doc = (await s.scalars(select(Document))).one()
    assert detail == f"unchanged since run {first['id']}"
    assert analysed_again == 0
    assert insights == 1
    assert (doc.etag, doc.site_name) == (ETAG, "The Northern Courier")
    assert str(doc.markdown).startswith("# River authority")

"""The embedded platform (emulator.platform.embedded, as the integration tier runs it) served by
uvicorn on a free loopback port from a thread of its own, seeded for the browser tests."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from types import TracebackType

import uvicorn

from emulator.platform import embedded
from shared.config import Settings
from tests.conftest import ROOT
from tests.e2e.seed import Seeded, seed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DashboardServer:
    """`with DashboardServer(settings) as srv:` serves the platform at `srv.url`."""

    def __init__(
        self, settings: Settings, table: Path = ROOT / "serverless.yml", *, seeded: bool = True
    ) -> None:
        """`seeded=False` serves an empty database, as a first `make dev` starts with."""
        self.settings = settings
        self.seed = seeded
        self.table = table
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.seeded: Seeded | None = None
        self.site = ""  # the demo site, when the caller serves one
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, name="e2e-server", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        async with embedded(self.settings, self.table, background=False) as platform:
            self.seeded = await seed(platform.runtime) if self.seed else None
            config = uvicorn.Config(
                platform.gateway,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
            self._server = uvicorn.Server(config)
            task = asyncio.create_task(self._server.serve())
            for _ in range(500):  # uvicorn has no start-up event to wait on
                if self._server.started or task.done():
                    break
                await asyncio.sleep(0.02)
            self._ready.set()
            await task

    def __enter__(self) -> DashboardServer:
        self._thread.start()
        if not self._ready.wait(60) or self._error is not None:
            raise RuntimeError(f"the dashboard did not start: {self._error!r}")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(30)

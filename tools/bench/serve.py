"""Benchmark server launcher: `python -m tools.bench.serve VARIANT FD` serves on socket FD."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

TABLE = Path(__file__).with_name("serverless.yml")
VARIANTS = ("event", "asgi", "baseline")


def baseline_app() -> FastAPI:
    """The same route on a plain FastAPI app: no Quarry code on the request path."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/bench/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def build(variant: str) -> ASGIApp:
    if variant == "baseline":
        return baseline_app()
    from emulator.gateway import Gateway
    from emulator.table import load_table
    from shared.config import Settings

    # No runtime is installed: the trivial function needs no ports, only the body limit.
    limit = Settings.model_fields["max_body_bytes"].default
    return Gateway(
        load_table(TABLE), mode="event" if variant == "event" else "asgi", max_body_bytes=limit
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in VARIANTS or not argv[1].isdigit():
        print(f"usage: python -m tools.bench.serve {{{'|'.join(VARIANTS)}}} FD", file=sys.stderr)
        return 2
    sock = socket.socket(fileno=int(argv[1]))
    config = uvicorn.Config(
        build(argv[0]), log_level="warning", access_log=False, lifespan="off", loop="asyncio"
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

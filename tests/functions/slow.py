"""A slow function with a short timeout and reserved concurrency, for Lambda-limit tests."""

from __future__ import annotations

import asyncio
import threading

from mangum import Mangum

from shared.handlers.http import TEXT_MIME_TYPES, create_app
from shared.handlers.stage import StageDeps, stage
from shared.messages import Message
from shared.outcome import Outcome, succeeded

app = create_app("slow", title="slow")
_lock = threading.Lock()
running = 0
peak = 0
# /slow-hold runs until the test sets `release` (60 s at most): `completed` counts the holds
# that ran to their end, `ended` every hold over, cancelled ones included
release = threading.Event()
completed = 0
ended = 0


@app.get("/slow/{ms}")
async def sleep(ms: int) -> dict[str, int]:
    global running, peak
    with _lock:
        running += 1
        peak = max(peak, running)
    try:
        await asyncio.sleep(ms / 1000)
    finally:
        with _lock:
            running -= 1
    return {"slept_ms": ms}


@app.get("/slow-hold")
async def hold() -> dict[str, bool]:
    """Outlives the function's timeout until released: a 504 seen before it completed came
    from the timeout, not from the handler's end."""
    global completed, ended
    try:
        for _ in range(6000):
            if release.is_set():
                break
            await asyncio.sleep(0.01)
        with _lock:
            completed += 1
        return {"released": release.is_set()}
    finally:
        with _lock:
            ended += 1


@app.get("/slow-stats")
async def stats() -> dict[str, int]:
    return {"peak": peak, "running": running}


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)


@stage("sleeper")
async def sleeper(msg: Message, deps: StageDeps) -> Outcome:
    await asyncio.sleep(5)
    return succeeded()

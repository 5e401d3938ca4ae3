"""The trivial function the gateway benchmark measures: one route, no database, no work."""

from __future__ import annotations

from mangum import Mangum

from shared.handlers.http import TEXT_MIME_TYPES, create_app

app = create_app("trivial", title="trivial")


@app.get("/bench/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

"""Health API: liveness and the database's reachability."""

from __future__ import annotations

from fastapi import Depends
from mangum import Mangum
from pydantic import BaseModel
from sqlalchemy import text

from shared.handlers.http import TEXT_MIME_TYPES, create_app, runtime
from shared.ports import Runtime

app = create_app("health", title="health")


class Health(BaseModel):
    status: str
    database: str


@app.get("/api/v1/health")
async def health(rt: Runtime = Depends(runtime)) -> Health:
    async with rt.db.reader() as session:
        await session.execute(text("SELECT 1"))
    return Health(status="ok", database="ok")


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

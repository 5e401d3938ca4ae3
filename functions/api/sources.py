"""Sources API: register and list the sources that runs start from."""

from __future__ import annotations

from fastapi import Depends, Response
from mangum import Mangum

from shared.handlers.http import TEXT_MIME_TYPES, create_app, runtime
from shared.pagination.params import CursorParam, Limit
from shared.ports import Runtime
from shared.repo import sources
from shared.schemas import Page, SourceIn, SourceOut

app = create_app("sources", title="sources")


@app.post("/api/v1/sources", status_code=201)
async def create_source(body: SourceIn, rt: Runtime = Depends(runtime)) -> SourceOut:
    return await sources.create(rt, body)


@app.get("/api/v1/sources")
async def list_sources(
    limit: Limit = 50, cursor: CursorParam = None, rt: Runtime = Depends(runtime)
) -> Page[SourceOut]:
    return await sources.list_(rt, limit, cursor)


@app.get("/api/v1/sources/{source_id}")
async def get_source(source_id: str, rt: Runtime = Depends(runtime)) -> SourceOut:
    return await sources.get(rt, source_id)


@app.put("/api/v1/sources/{source_id}")
async def replace_source(
    source_id: str, body: SourceIn, rt: Runtime = Depends(runtime)
) -> SourceOut:
    return await sources.update(rt, source_id, body)


@app.delete("/api/v1/sources/{source_id}", status_code=204, response_class=Response)
async def delete_source(source_id: str, rt: Runtime = Depends(runtime)) -> Response:
    await sources.delete(rt, source_id)
    return Response(status_code=204)


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

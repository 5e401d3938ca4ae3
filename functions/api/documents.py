"""Documents API: search the pipeline's documents and read one with its insights."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from mangum import Mangum

from shared.handlers.http import TEXT_MIME_TYPES, create_app, runtime
from shared.pagination.params import CursorParam, Limit
from shared.ports import Runtime
from shared.repo import documents
from shared.schemas import DocumentDetail, DocumentOut, Page

app = create_app("documents", title="documents")


@app.get("/api/v1/documents")
async def list_documents(
    limit: Limit = 50,
    cursor: CursorParam = None,
    source_id: str | None = None,
    run_id: str | None = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in title or body.")] = None,
    rt: Runtime = Depends(runtime),
) -> Page[DocumentOut]:
    return await documents.list_(
        rt, limit, cursor, source_id=source_id, language=language, run_id=run_id, q=q
    )


@app.get("/api/v1/documents/{document_id}")
async def get_document(document_id: str, rt: Runtime = Depends(runtime)) -> DocumentDetail:
    return await documents.get(rt, document_id)


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

"""Documents: search by text, source, language, sentiment and label; one document's text
(Markdown through the sanitiser), metadata and insights."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse

from dashboard.queries.documents import (
    SENTIMENTS,
    Filters,
    insight_extras,
    languages,
    search,
    source_names,
)
from dashboard.web import page, page_router
from shared.handlers.http import runtime
from shared.pagination.params import CursorParam
from shared.ports import Runtime
from shared.repo import documents

router = page_router()
PAGE_SIZE = 25
Text = Annotated[str, Query(max_length=200)]
Sentiment = Literal["", "positive", "neutral", "negative"]


@router.get("/documents", include_in_schema=False)
async def list_documents(
    request: Request,
    q: Text = "",
    source_id: Text = "",
    language: Text = "",
    sentiment: Sentiment = "",
    label: Text = "",
    cursor: CursorParam = None,
    rt: Runtime = Depends(runtime),
) -> HTMLResponse:
    filters = Filters(q.strip(), source_id, language, sentiment, label.strip())
    rows, nxt = await search(rt, filters, PAGE_SIZE, cursor)
    return page(
        request,
        rt,
        "documents.html",
        {
            "rows": rows,
            "next_cursor": nxt,
            "f": filters,
            "filtered": filters != Filters() or bool(cursor),
            "sources": await source_names(rt),
            "languages": await languages(rt),
            "sentiments": SENTIMENTS,
        },
    )


@router.get("/documents/{document_id}", include_in_schema=False)
async def show_document(
    request: Request, document_id: str, rt: Runtime = Depends(runtime)
) -> HTMLResponse:
    doc = await documents.get(rt, document_id)
    extras = await insight_extras(rt, document_id)
    return page(request, rt, "document.html", {"doc": doc, "extras": extras})

"""Sources: create, edit and delete through HTML forms; start a run."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from dashboard.forms import Form, read_form
from dashboard.queries.sources import recent_runs, update
from dashboard.web import page, page_router, see_other
from shared import runs
from shared.errors import ConflictError
from shared.repo import sources
from shared.runtime.deps import Runtime
from shared.runtime.http import runtime
from shared.runtime.params import CursorParam
from shared.schemas import SourceIn, SourceOut

router = page_router()
PAGE_SIZE = 25
KINDS = ("site", "sitemap", "feed", "crawl", "urls")
FIELD_NAMES = {"name": "Name", "kind": "Kind", "url": "URL", "urls": "URLs", "schedule": "Schedule"}


def to_source_in(form: Form) -> SourceIn:
    """A SourceIn from the form's fields; blank optional fields are left out."""
    body: dict[str, Any] = {"name": form.text("name"), "kind": form.text("kind")}
    if form.text("url"):
        body["url"] = form.text("url")
    urls = [line.strip() for line in form.get("urls", "").splitlines() if line.strip()]
    if urls:
        body["urls"] = urls
    if form.text("schedule"):
        body["schedule"] = form.text("schedule")
    return SourceIn.model_validate(body)


def messages(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = FIELD_NAMES.get(str(err["loc"][0]), "") if err["loc"] else ""
        text = str(err["msg"]).removeprefix("Value error, ")
        out.append(f"{where}: {text}" if where else text)
    return out


def _values(form: Form | None, source: SourceOut | None) -> dict[str, str]:
    if form is not None:
        return {k: form.get(k, "") for k in ("name", "kind", "url", "urls", "schedule")}
    if source is not None:
        return {
            "name": source.name,
            "kind": source.kind,
            "url": source.url or "",
            "urls": "\n".join(source.urls),
            "schedule": source.schedule or "",
        }
    return {"name": "", "kind": "site", "url": "", "urls": "", "schedule": ""}


@router.get("/sources", include_in_schema=False)
async def list_sources(
    request: Request, cursor: CursorParam = None, rt: Runtime = Depends(runtime)
) -> HTMLResponse:
    found = await sources.list_(rt, PAGE_SIZE, cursor)
    return page(
        request,
        rt,
        "sources.html",
        {"sources": found.items, "next_cursor": found.next_cursor, "filtered": bool(cursor)},
    )


@router.get("/sources/new", include_in_schema=False)
async def new_source(request: Request, rt: Runtime = Depends(runtime)) -> HTMLResponse:
    return page(
        request,
        rt,
        "source_form.html",
        {"source": None, "values": _values(None, None), "errors": [], "kinds": KINDS},
    )


@router.post("/sources", include_in_schema=False)
async def create_source(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    form = await read_form(request)
    try:
        body = to_source_in(form)
    except ValidationError as exc:
        context = {"source": None, "values": _values(form, None), "kinds": KINDS}
        return page(
            request, rt, "source_form.html", {**context, "errors": messages(exc)}, status=422
        )
    created = await sources.create(rt, body)
    return see_other(f"/sources/{created.id}", "created")


@router.get("/sources/{source_id}", include_in_schema=False)
async def show_source(request: Request, source_id: str, rt: Runtime = Depends(runtime)) -> Response:
    source = await sources.get(rt, source_id)
    return page(
        request,
        rt,
        "source_form.html",
        {
            "source": source,
            "values": _values(None, source),
            "errors": [],
            "kinds": KINDS,
            "runs": await recent_runs(rt, source_id),
        },
    )


@router.post("/sources/{source_id}", include_in_schema=False)
async def save_source(request: Request, source_id: str, rt: Runtime = Depends(runtime)) -> Response:
    source = await sources.get(rt, source_id)
    form = await read_form(request)
    try:
        body = to_source_in(form)
    except ValidationError as exc:
        context = {"source": source, "values": _values(form, None), "kinds": KINDS}
        return page(
            request,
            rt,
            "source_form.html",
            {**context, "errors": messages(exc), "runs": await recent_runs(rt, source_id)},
            status=422,
        )
    await update(rt, source_id, body)
    return see_other(f"/sources/{source_id}", "saved")


@router.post("/sources/{source_id}/delete", include_in_schema=False)
async def delete_source(
    request: Request, source_id: str, rt: Runtime = Depends(runtime)
) -> Response:
    try:
        await sources.delete(rt, source_id)
    except ConflictError as exc:
        source = await sources.get(rt, source_id)
        return page(
            request,
            rt,
            "source_form.html",
            {
                "source": source,
                "values": _values(None, source),
                "errors": [exc.detail],
                "kinds": KINDS,
                "runs": await recent_runs(rt, source_id),
            },
            status=409,
        )
    return see_other("/sources", "deleted")


@router.post("/sources/{source_id}/runs", include_in_schema=False)
async def start_run(source_id: str, rt: Runtime = Depends(runtime)) -> Response:
    run = await runs.start_run(rt, source_id, trigger="api")
    return see_other(f"/runs/{run.id}", "started")

"""Sources: create, edit and delete through HTML forms; start a run."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from dashboard.forms import Form, read_form
from dashboard.queries.sources import recent_runs
from dashboard.web import page, page_router, see_other
from shared import runs
from shared.errors import ConflictError
from shared.handlers.http import runtime
from shared.pagination.params import CursorParam
from shared.ports import Runtime
from shared.repo import sources
from shared.schemas import SourceIn, SourceOut

router = page_router()
PAGE_SIZE = 25
KINDS = ("site", "sitemap", "feed", "crawl", "urls")
FIELD_NAMES = {
    "name": "Name",
    "kind": "Kind",
    "url": "URL",
    "urls": "URLs",
    "schedule": "Schedule",
    "crawl": "Crawl",
    "intelligence": "Intelligence",
    "max_depth": "depth",
    "max_pages": "pages",
    "path_prefix": "path prefix",
    "include": "include",
    "exclude": "exclude",
    "labels": "labels",
    "schema": "JSON Schema",
    "json_schema": "JSON Schema",
}
FIELDS = (
    "name", "kind", "url", "urls", "schedule", "max_depth", "max_pages", "path_prefix",
    "include", "exclude", "follow_nofollow", "labels", "schema",
)  # fmt: skip


class FormError(ValueError):
    """A field the form could not even hand to the schema (such as JSON that is not JSON)."""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _crawl(form: Form) -> dict[str, Any] | None:
    crawl: dict[str, Any] = {}
    for name in ("max_depth", "max_pages", "path_prefix"):
        if form.text(name):
            crawl[name] = form.text(name)
    for name in ("include", "exclude"):
        if _lines(form.get(name, "")):
            crawl[name] = _lines(form.get(name, ""))
    if form.get("follow_nofollow"):
        crawl["follow_nofollow"] = True
    return crawl or None


def _intelligence(form: Form) -> dict[str, Any] | None:
    labels = {}
    for line in _lines(form.get("labels", "")):
        name, _, description = line.partition(":")
        labels[name.strip()] = description.strip()
    body: dict[str, Any] = {}
    if labels:
        body["labels"] = labels
    if form.text("schema"):
        try:
            body["schema"] = json.loads(form.text("schema"))
        except ValueError as exc:
            raise FormError(f"JSON Schema: not JSON ({exc})") from exc
    return body or None


def to_source_in(form: Form) -> SourceIn:
    """A SourceIn from the form's fields; blank optional fields are left out, and crawl
    options count only for a `crawl` source."""
    body: dict[str, Any] = {"name": form.text("name"), "kind": form.text("kind")}
    if form.text("url"):
        body["url"] = form.text("url")
    if _lines(form.get("urls", "")):
        body["urls"] = _lines(form.get("urls", ""))
    if form.text("schedule"):
        body["schedule"] = form.text("schedule")
    if body["kind"] == "crawl" and (crawl := _crawl(form)):
        body["crawl"] = crawl
    if intelligence := _intelligence(form):
        body["intelligence"] = intelligence
    return SourceIn.model_validate(body)


def messages(exc: ValidationError | FormError) -> list[str]:
    if isinstance(exc, FormError):
        return [str(exc)]
    out = []
    for err in exc.errors():
        where = " ".join(FIELD_NAMES.get(str(p), "") for p in err["loc"] if isinstance(p, str))
        text = str(err["msg"]).removeprefix("Value error, ")
        out.append(f"{where.strip()}: {text}" if where.strip() else text)
    return out


def _values(form: Form | None, source: SourceOut | None) -> dict[str, str]:
    if form is not None:
        return {k: form.get(k, "") for k in FIELDS}
    values = dict.fromkeys(FIELDS, "")
    values["kind"] = "site"
    if source is not None:
        values.update(
            name=source.name,
            kind=source.kind,
            url=source.url or "",
            urls="\n".join(source.urls),
            schedule=source.schedule or "",
        )
        if source.crawl is not None:
            c = source.crawl
            values.update(
                max_depth=str(c.max_depth),
                max_pages=str(c.max_pages),
                path_prefix=c.path_prefix or "",
                include="\n".join(c.include),
                exclude="\n".join(c.exclude),
                follow_nofollow="on" if c.follow_nofollow else "",
            )
        if source.intelligence is not None:
            i = source.intelligence
            values["labels"] = "\n".join(f"{k}: {v}" for k, v in i.labels.items())
            values["schema"] = json.dumps(i.json_schema, indent=2) if i.json_schema else ""
    return values


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
    except (ValidationError, FormError) as exc:
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
    except (ValidationError, FormError) as exc:
        context = {"source": source, "values": _values(form, None), "kinds": KINDS}
        return page(
            request,
            rt,
            "source_form.html",
            {**context, "errors": messages(exc), "runs": await recent_runs(rt, source_id)},
            status=422,
        )
    await sources.update(rt, source_id, body)
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

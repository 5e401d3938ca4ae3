"""Runs API: start a run of a source, follow it stage by stage, cancel it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Header
from fastapi.responses import JSONResponse
from mangum import Mangum

from shared import idempotency, runs
from shared.handlers.http import TEXT_MIME_TYPES, create_app, runtime
from shared.pagination.params import CursorParam, Limit
from shared.ports import Runtime
from shared.repo import runs as run_reads
from shared.schemas import Page, RunIn, RunOut

app = create_app("runs", title="runs")
State = Literal["queued", "running", "succeeded", "failed", "cancelled"]


@app.post("/api/v1/runs", status_code=202, response_model=RunOut)
async def start_run(
    body: RunIn,
    rt: Runtime = Depends(runtime),
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=idempotency.MAX_KEY,
            description="Retry safely: the same key replays the first answer (24 h).",
        ),
    ] = None,
) -> RunOut | JSONResponse:
    if idempotency_key is None:
        return RunOut.model_validate(await runs.start_run(rt, body.source_id, trigger="api"))
    route, digest = "POST /api/v1/runs", idempotency.fingerprint(body.model_dump(mode="json"))
    replay = await idempotency.claim(rt, idempotency_key, route, digest)
    if replay is not None:
        headers = {"idempotent-replayed": "true"}
        return JSONResponse(replay.body, status_code=replay.status, headers=headers)
    try:
        out = RunOut.model_validate(await runs.start_run(rt, body.source_id, trigger="api"))
    except BaseException:
        await idempotency.release(rt, idempotency_key, route)
        raise
    await idempotency.finish(rt, idempotency_key, route, 202, out.model_dump(mode="json"))
    return out


@app.get("/api/v1/runs")
async def list_runs(
    limit: Limit = 50,
    cursor: CursorParam = None,
    source_id: str | None = None,
    state: State | None = None,
    rt: Runtime = Depends(runtime),
) -> Page[RunOut]:
    return await run_reads.list_(rt, limit, cursor, source_id=source_id, state=state)


@app.get("/api/v1/runs/{run_id}")
async def get_run(run_id: str, rt: Runtime = Depends(runtime)) -> RunOut:
    return await run_reads.get(rt, run_id)


@app.post("/api/v1/runs/{run_id}/cancel")
async def cancel_run(run_id: str, rt: Runtime = Depends(runtime)) -> RunOut:
    await runs.cancel(rt, run_id)
    return await run_reads.get(rt, run_id)


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

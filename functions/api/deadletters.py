"""Dead letters API: messages that failed every attempt; replay them or discard them."""

from __future__ import annotations

from fastapi import Depends, Response
from mangum import Mangum

from shared import deadletters
from shared.handlers.http import TEXT_MIME_TYPES, create_app, runtime
from shared.pagination.params import CursorParam, Limit
from shared.ports import Runtime
from shared.schemas import DeadLetterOut, Page

app = create_app("deadletters", title="dead letters")


@app.get("/api/v1/dead-letters")
async def list_dead_letters(
    limit: Limit = 50,
    cursor: CursorParam = None,
    stage: str | None = None,
    rt: Runtime = Depends(runtime),
) -> Page[DeadLetterOut]:
    return await deadletters.list_(rt, limit, cursor, stage)


@app.post("/api/v1/dead-letters/{letter_id}/replay", status_code=202)
async def replay_dead_letter(letter_id: str, rt: Runtime = Depends(runtime)) -> DeadLetterOut:
    return DeadLetterOut.model_validate(await deadletters.replay(rt, letter_id))


@app.delete("/api/v1/dead-letters/{letter_id}", status_code=204, response_class=Response)
async def discard_dead_letter(letter_id: str, rt: Runtime = Depends(runtime)) -> Response:
    await deadletters.discard(rt, letter_id)
    return Response(status_code=204)


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

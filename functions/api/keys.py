"""API keys API (admin): create a key (shown once), list keys, revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Response
from mangum import Mangum
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import keys
from shared.auth.middleware import requires
from shared.handlers.http import TEXT_MIME_TYPES, create_app, runtime
from shared.ports import Runtime

app = create_app("keys", title="keys")
Id = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="A key's id.")]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Who or what uses the key (printable text).",
    )
    scope: keys.Scope = Field(description="read, write (includes read) or admin (everything).")


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it.")
    scope: str
    created_at: datetime
    revoked_at: datetime | None


class NewKeyOut(KeyOut):
    key: str = Field(description="The key itself: shown this once, store it now.")


class KeyList(BaseModel):
    items: list[KeyOut]


@app.post("/api/v1/keys", status_code=201)
@requires("admin")
async def create_key(body: KeyIn, rt: Runtime = Depends(runtime)) -> NewKeyOut:
    row, key = await keys.create(rt.db, body.name, body.scope)
    return NewKeyOut.model_validate({**KeyOut.model_validate(row).model_dump(), "key": key})


@app.get("/api/v1/keys")
@requires("admin")
async def list_keys(rt: Runtime = Depends(runtime)) -> KeyList:
    return KeyList(items=[KeyOut.model_validate(r) for r in await keys.list_keys(rt.db)])


@app.delete("/api/v1/keys/{key_id}", status_code=204, response_class=Response)
@requires("admin")
async def revoke_key(key_id: Id, rt: Runtime = Depends(runtime)) -> Response:
    await keys.revoke(rt.db, key_id)
    return Response(status_code=204)


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

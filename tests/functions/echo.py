"""Echo function: reflects what it received, to prove both gateway paths agree."""

from __future__ import annotations

from fastapi import Request, Response
from mangum import Mangum
from pydantic import BaseModel, Field

from shared.handlers.http import TEXT_MIME_TYPES, create_app

app = create_app("echo", title="echo")


class Item(BaseModel):
    name: str = Field(min_length=1)
    qty: int = Field(ge=1)


@app.get("/echo/items/{item_id}")
async def get_item(item_id: str, request: Request) -> dict[str, object]:
    return {
        "item_id": item_id,
        "tags": request.query_params.getlist("tag"),
        "path": request.url.path,
    }


@app.post("/echo/items")
async def create_item(item: Item) -> Item:
    return item


@app.post("/echo/binary")
async def binary(request: Request) -> Response:
    body = await request.body()
    return Response(body[::-1], media_type="application/octet-stream")


@app.get("/echo/cookies")
async def cookies(request: Request) -> Response:
    response = Response('{"ok":true}', media_type="application/json")
    response.set_cookie("session", "abc", httponly=True)
    response.set_cookie("theme", "dark")
    return response


@app.get("/echo/{rest:path}")
async def greedy(rest: str) -> dict[str, str]:
    return {"proxy": rest}


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

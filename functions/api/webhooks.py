"""Webhooks API: signed deliveries that start runs, their inbox, each source's webhook
configuration, and subscriptions to run events with their delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from mangum import Mangum

from shared.auth.middleware import requires
from shared.handlers.http import TEXT_MIME_TYPES, create_app, runtime
from shared.pagination.params import CursorParam, Limit
from shared.ports import Runtime
from shared.schemas import Page
from shared.webhooks import config, inbox, subscriptions
from shared.webhooks.schemas import (
    DeliveryOut,
    OutboundOut,
    Receipt,
    SubscriptionIn,
    SubscriptionOut,
    WebhookConfigIn,
    WebhookConfigOut,
)

app = create_app("webhooks", title="webhooks")
Id = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="An id.")]
RECEIPTS = {
    200: {"model": Receipt, "description": "A copy of a delivery already accepted."},
    202: {"model": Receipt, "description": "Accepted: the run it started."},
}


@app.post("/api/v1/webhooks/{source_id}", status_code=202, responses=RECEIPTS)  # type: ignore[arg-type]
@requires("public")  # the signature authenticates the sender
async def receive(source_id: Id, request: Request, rt: Runtime = Depends(runtime)) -> Response:
    body = await request.body()
    outcome = await inbox.receive(rt, source_id, dict(request.headers), body)
    return JSONResponse(outcome.receipt.model_dump(), status_code=outcome.status)


@app.get("/api/v1/webhook-deliveries")
async def list_deliveries(
    limit: Limit = 50,
    cursor: CursorParam = None,
    source_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    rt: Runtime = Depends(runtime),
) -> Page[DeliveryOut]:
    return await inbox.list_(rt, limit, cursor, source_id=source_id)


@app.get("/api/v1/webhook-deliveries/{delivery_id}")
async def get_delivery(delivery_id: Id, rt: Runtime = Depends(runtime)) -> DeliveryOut:
    return await inbox.get(rt, delivery_id)


@app.post("/api/v1/webhook-deliveries/{delivery_id}/redeliver", status_code=202)
async def redeliver(delivery_id: Id, rt: Runtime = Depends(runtime)) -> Receipt:
    return (await inbox.redeliver(rt, delivery_id)).receipt


@app.put("/api/v1/sources/{source_id}/webhook")
@requires("admin")
async def put_config(
    source_id: Id, body: WebhookConfigIn, rt: Runtime = Depends(runtime)
) -> WebhookConfigOut:
    return await config.put(rt, source_id, body)


@app.get("/api/v1/sources/{source_id}/webhook")
@requires("admin")
async def get_config(source_id: Id, rt: Runtime = Depends(runtime)) -> WebhookConfigOut:
    return await config.get(rt, source_id)


@app.delete("/api/v1/sources/{source_id}/webhook", status_code=204, response_class=Response)
@requires("admin")
async def delete_config(source_id: Id, rt: Runtime = Depends(runtime)) -> Response:
    await config.remove(rt, source_id)
    return Response(status_code=204)


@app.post("/api/v1/webhook-subscriptions", status_code=201)
@requires("admin")
async def subscribe(body: SubscriptionIn, rt: Runtime = Depends(runtime)) -> SubscriptionOut:
    return await subscriptions.create(rt, body)


@app.get("/api/v1/webhook-subscriptions")
@requires("admin")
async def list_subscriptions(
    limit: Limit = 50, cursor: CursorParam = None, rt: Runtime = Depends(runtime)
) -> Page[SubscriptionOut]:
    return await subscriptions.list_(rt, limit, cursor)


@app.delete(
    "/api/v1/webhook-subscriptions/{subscription_id}", status_code=204, response_class=Response
)
@requires("admin")
async def unsubscribe(subscription_id: Id, rt: Runtime = Depends(runtime)) -> Response:
    await subscriptions.remove(rt, subscription_id)
    return Response(status_code=204)


@app.get("/api/v1/webhook-subscriptions/{subscription_id}/deliveries")
@requires("admin")
async def subscription_log(
    subscription_id: Id,
    limit: Limit = 50,
    cursor: CursorParam = None,
    rt: Runtime = Depends(runtime),
) -> Page[OutboundOut]:
    return await subscriptions.log_of(rt, subscription_id, limit, cursor)


handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

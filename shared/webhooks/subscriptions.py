"""Subscribers to a source's run events, each with its own signing secret."""

from __future__ import annotations

import base64
import secrets

from sqlalchemy import delete, select

from shared.db.models import OutboundDelivery, Source, WebhookSubscription
from shared.errors import NotFoundError
from shared.pagination.keyset import keyset, page_of
from shared.ports import Runtime
from shared.schemas import Page
from shared.webhooks import vault
from shared.webhooks.schemas import OutboundOut, SubscriptionIn, SubscriptionOut


def _secret(rt: Runtime) -> bytes:
    return rt.settings.secret_key.get_secret_value().encode()


def to_out(row: WebhookSubscription, secret: str | None = None) -> SubscriptionOut:
    """The subscription as shown: the sealed secret never, the plain one only when given."""
    fields = {name: getattr(row, name) for name in SubscriptionOut.model_fields if name != "secret"}
    return SubscriptionOut.model_validate({**fields, "secret": secret})


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def create(rt: Runtime, body: SubscriptionIn) -> SubscriptionOut:
    """Subscribe a URL; the secret is in this answer only."""
    secret = new_secret()
    async with rt.db.writer() as session:
        if await session.get(Source, body.source_id) is None:
            raise NotFoundError(f"source {body.source_id} does not exist")
        row = WebhookSubscription(
            source_id=body.source_id,
            url=body.url,
            secret=vault.seal(rt.settings.secret_key, [secret]),
            events=list(dict.fromkeys(body.events)),
            active=True,
        )
        session.add(row)
        await session.flush()
        await session.refresh(row)
        return to_out(row, secret)


async def list_(rt: Runtime, limit: int, cursor: str | None) -> Page[SubscriptionOut]:
    stmt = keyset(
        select(WebhookSubscription),
        WebhookSubscription.created_at,
        WebhookSubscription.id,
        cursor,
        limit,
        _secret(rt),
    )
    async with rt.db.reader() as session:
        rows = (await session.scalars(stmt)).all()
    items, nxt = page_of(rows, limit, _secret(rt), "created_at")
    return Page[SubscriptionOut](items=[to_out(r) for r in items], next_cursor=nxt)


async def remove(rt: Runtime, subscription_id: str) -> None:
    async with rt.db.writer() as session:
        gone = await session.execute(
            delete(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
        )
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError(f"subscription {subscription_id} does not exist")


async def log_of(
    rt: Runtime, subscription_id: str, limit: int, cursor: str | None
) -> Page[OutboundOut]:
    """The delivery log of one subscription, newest first."""
    async with rt.db.reader() as session:
        if await session.get(WebhookSubscription, subscription_id) is None:
            raise NotFoundError(f"subscription {subscription_id} does not exist")
        stmt = keyset(
            select(OutboundDelivery).where(OutboundDelivery.subscription_id == subscription_id),
            OutboundDelivery.created_at,
            OutboundDelivery.id,
            cursor,
            limit,
            _secret(rt),
        )
        rows = (await session.scalars(stmt)).all()
    items, nxt = page_of(rows, limit, _secret(rt), "created_at")
    return Page[OutboundOut](items=[OutboundOut.model_validate(r) for r in items], next_cursor=nxt)

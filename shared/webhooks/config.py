"""A source's inbound webhook configuration: scheme, sealed secrets and URL rule."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete

from shared.db.models import Source, WebhookConfig
from shared.errors import NotFoundError
from shared.ports import Runtime
from shared.webhooks import signature, vault
from shared.webhooks.schemas import WebhookConfigIn, WebhookConfigOut


@dataclass(frozen=True)
class Verifier:
    """What checking one source's deliveries needs, secrets unsealed."""

    scheme: signature.Scheme
    secrets: list[str]
    header: str | None
    urls_path: str | None


def receive_url(source_id: str) -> str:
    return f"/api/v1/webhooks/{source_id}"


def to_out(row: WebhookConfig, count: int) -> WebhookConfigOut:
    return WebhookConfigOut(
        source_id=row.source_id,
        scheme=row.scheme,
        secrets=count,
        header=row.header,
        urls_path=row.urls_path,
        url=receive_url(row.source_id),
        updated_at=row.updated_at,
    )


async def put(rt: Runtime, source_id: str, body: WebhookConfigIn) -> WebhookConfigOut:
    """Set (or replace) the source's webhook configuration."""
    sealed = vault.seal(rt.settings.secret_key, body.secrets)
    async with rt.db.writer() as session:
        if await session.get(Source, source_id) is None:
            raise NotFoundError(f"source {source_id} does not exist")
        row = await session.get(WebhookConfig, source_id)
        if row is None:
            row = WebhookConfig(source_id=source_id)
            session.add(row)
        row.scheme, row.secrets = body.scheme, sealed
        row.header, row.urls_path = body.header, body.urls_path
        await session.flush()
        await session.refresh(row)
        return to_out(row, len(body.secrets))


async def get(rt: Runtime, source_id: str) -> WebhookConfigOut:
    async with rt.db.writer() as session:
        row = await session.get(WebhookConfig, source_id)
        if row is None:
            raise NotFoundError(f"source {source_id} has no webhook configured")
        count = len(vault.unseal(rt.settings.secret_key, row.secrets))
        return to_out(row, count)


async def remove(rt: Runtime, source_id: str) -> None:
    async with rt.db.writer() as session:
        gone = await session.execute(
            delete(WebhookConfig).where(WebhookConfig.source_id == source_id)
        )
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError(f"source {source_id} has no webhook configured")


async def verifier(rt: Runtime, source_id: str) -> Verifier:
    """The source's verifier; NotFoundError if the source or its configuration is missing."""
    async with rt.db.writer() as session:
        row = await session.get(WebhookConfig, source_id)
        if row is None:
            if await session.get(Source, source_id) is None:
                raise NotFoundError(f"source {source_id} does not exist")
            raise NotFoundError(
                f"source {source_id} has no webhook configured; configure it with "
                f"PUT /api/v1/sources/{source_id}/webhook"
            )
        scheme: signature.Scheme = row.scheme  # type: ignore[assignment]
        return Verifier(
            scheme, vault.unseal(rt.settings.secret_key, row.secrets), row.header, row.urls_path
        )

"""Webhook API bodies: source webhook configuration, inbox deliveries, subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.webhooks import mapping, signature

Event = Literal["run.completed", "run.failed"]
EVENTS: tuple[Event, ...] = ("run.completed", "run.failed")


class WebhookConfigIn(BaseModel):
    """How a source's inbound deliveries are verified, and where the payload names URLs."""

    model_config = ConfigDict(extra="forbid")
    scheme: signature.Scheme = Field(
        description="`standard` (Standard Webhooks), `github` (X-Hub-Signature-256) or "
        "`generic` (a hex HMAC-SHA256 of the body in `header`)."
    )
    secrets: list[str] = Field(
        min_length=1,
        max_length=5,
        description="Signing secrets; several are accepted at once while a key rotates. "
        "Standard Webhooks secrets are `whsec_` + base64.",
    )
    header: str | None = Field(
        None,
        max_length=100,
        pattern=r"^[A-Za-z0-9-]+$",
        description="The signature header of the `generic` scheme (default X-Signature).",
    )
    urls_path: str | None = Field(
        None,
        max_length=500,
        description="Dotted path or JSON pointer to a URL or list of URLs in the payload; "
        "unset starts a run of the whole source.",
    )

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, value: list[str]) -> list[str]:
        for secret in value:
            if not 16 <= len(secret) <= 200:
                raise ValueError("each secret must be 16 to 200 characters")
        return value

    @field_validator("urls_path")
    @classmethod
    def _rule(cls, value: str | None) -> str | None:
        return mapping.check_rule(value) if value is not None else None

    @model_validator(mode="after")
    def _standard_secrets(self) -> WebhookConfigIn:
        if self.scheme == "standard":
            for secret in self.secrets:
                try:
                    key = signature.standard_key(secret)
                except ValueError as exc:
                    raise ValueError(str(exc)) from exc
                if len(key) < 16:
                    raise ValueError("a Standard Webhooks secret must hold at least 16 bytes")
        return self


class WebhookConfigOut(BaseModel):
    source_id: str
    scheme: str
    secrets: int = Field(description="How many secrets are set (they are never shown).")
    header: str | None
    urls_path: str | None
    url: str = Field(description="Where the sender delivers: POST here.")
    updated_at: datetime


class DeliveryOut(BaseModel):
    """One inbound delivery in the inbox (secret headers removed)."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    source_id: str
    delivery_id: str | None = Field(description="The sender's id, set once accepted.")
    message_id: str | None
    verdict: str = Field(description="accepted, duplicate, rejected, invalid or redelivered.")
    detail: str | None
    urls: list[str] | None
    run_id: str | None
    redelivery_of: str | None
    headers: dict[str, str]
    body: str | None = Field(
        description="The raw body as text (invalid UTF-8 replaced); null when the signature "
        "did not check out, since a stranger's bytes are not kept."
    )
    size: int = Field(description="The body's size in bytes.")
    body_sha256: str | None = Field(description="The body's sha256, hex.")
    created_at: datetime


class Receipt(BaseModel):
    """The answer to a delivery: the run it started (or that an earlier copy started)."""

    delivery: str = Field(description="Id of the inbox entry.")
    duplicate: bool
    run_id: str | None
    urls: list[str] | None


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    url: str = Field(min_length=1, max_length=2048, description="http(s) URL to POST events to.")
    events: list[Event] = Field(default_factory=lambda: list(EVENTS), min_length=1)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not mapping.is_url(value):
            raise ValueError("must be an http or https URL with a host")
        return value


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    source_id: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    secret: str | None = Field(
        None, description="The signing secret (`whsec_...`), shown once, at creation."
    )


class OutboundOut(BaseModel):
    """One event to one subscriber: its state, attempts and last answer."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    subscription_id: str
    event_id: str
    event: str
    run_id: str
    state: str = Field(description="pending, delivered or failed (gave up).")
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

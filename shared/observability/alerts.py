"""Alerts from Alertmanager: its webhook payload, kept one row per alert fingerprint, and the
firing ones listed for the API and the dashboard."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared import metrics
from shared.db.models import Alert, utcnow
from shared.db.upsert import upsert
from shared.errors import QuarryError, UnavailableError
from shared.logs import get_logger
from shared.ports import Runtime

log = get_logger("quarry.alerts")
MAX_ALERTS = 1000
# Alertmanager marks "no end yet" with Go's zero time.
ZERO_TIME_YEAR = 1


class AlertTokenError(QuarryError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"


class ReceivedAlert(BaseModel):
    """One alert of an Alertmanager webhook notification (payload version 4)."""

    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(max_length=64)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=64)
    startsAt: datetime  # Alertmanager's own field names
    endsAt: datetime | None = None
    generatorURL: str | None = Field(None, max_length=2000)
    fingerprint: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")


class Notification(BaseModel):
    """Alertmanager's webhook body; fields Quarry does not use are ignored."""

    model_config = ConfigDict(extra="ignore")
    version: str = Field(max_length=8)
    status: Literal["firing", "resolved"]
    receiver: str = Field("", max_length=200)
    alerts: list[ReceivedAlert] = Field(max_length=MAX_ALERTS)


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    fingerprint: str
    name: str
    status: str
    severity: str | None
    summary: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str | None
    updated_at: datetime


class AlertList(BaseModel):
    items: list[AlertOut]


class Received(BaseModel):
    received: int
    firing: int


def check_token(expected: str, authorization: str | None) -> None:
    """Accept only `Authorization: Bearer <alerts_token>`; refuse everything while no token
    is configured, so an open receiver can never be forged into the dashboard."""
    if not expected:
        raise UnavailableError(
            "alerts are not accepted: set QUARRY_ALERTS_TOKEN, and the same token as the "
            "bearer credentials of Alertmanager's webhook receiver"
        )
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise AlertTokenError("send the alerts token as `Authorization: Bearer <token>`")
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise AlertTokenError("the bearer token is not the configured alerts token")


def _ends(alert: ReceivedAlert) -> datetime | None:
    if alert.endsAt is None or alert.endsAt.year <= ZERO_TIME_YEAR:
        return None
    return alert.endsAt


async def store(rt: Runtime, notification: Notification) -> Received:
    """Upsert each alert by fingerprint: a firing alert appears, a resolved one leaves the
    firing list, and a notification repeated by Alertmanager changes nothing more."""
    async with rt.db.writer() as session:
        for alert in notification.alerts:
            name = alert.labels.get("alertname", "unnamed")[:200]
            await upsert(
                session,
                Alert,
                {
                    "id": alert.fingerprint[:32],
                    "fingerprint": alert.fingerprint,
                    "name": name,
                    "status": alert.status,
                    "severity": (alert.labels.get("severity") or None),
                    "summary": alert.annotations.get("summary"),
                    "labels": alert.labels,
                    "annotations": alert.annotations,
                    "starts_at": alert.startsAt,
                    "ends_at": _ends(alert),
                    "generator_url": alert.generatorURL,
                    "updated_at": utcnow(),
                },
                key=("fingerprint",),
                update=(
                    "name",
                    "status",
                    "severity",
                    "summary",
                    "labels",
                    "annotations",
                    "starts_at",
                    "ends_at",
                    "generator_url",
                    "updated_at",
                ),
            )
            metrics.ALERTS_RECEIVED.labels(alert.status).inc()
    firing = sum(1 for a in notification.alerts if a.status == "firing")
    log.info(
        "alerts received",
        extra={"received": len(notification.alerts), "firing": firing},
    )
    return Received(received=len(notification.alerts), firing=firing)


async def firing(rt: Runtime, limit: int = 200) -> AlertList:
    """Alerts firing now, newest first."""
    async with rt.db.reader() as session:
        rows = await session.scalars(
            select(Alert)
            .where(Alert.status == "firing")
            .order_by(Alert.starts_at.desc(), Alert.id)
            .limit(limit)
        )
        return AlertList(items=[AlertOut.model_validate(r) for r in rows])


async def firing_count(rt: Runtime) -> int:
    """How many alerts fire now (the dashboard's badge)."""
    return len((await firing(rt)).items)

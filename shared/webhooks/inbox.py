"""The inbox: every inbound delivery is stored with its verdict; an accepted one starts
exactly one run, however often or however concurrently its sender repeats it.

The dedup key is (source, delivery id) under a unique constraint, written in the same
transaction as the run, so a copy either sees the committed original or fails on the
constraint and answers with the original's run. The id is one the signature covers, else the
body's hash (see shared.webhooks.signature). Rows are kept 30 days (shared.webhooks.
retention), never less than 72 hours. A delivery whose signature did not check out keeps its
verdict, headers, size and hash, never its body, and cannot be re-delivered.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shared import outbox, runs
from shared.db.models import WebhookDelivery
from shared.errors import ConflictError, NotFoundError, PayloadError, QuarryError
from shared.logs import get_logger
from shared.pagination.keyset import keyset, page_of
from shared.ports import Runtime
from shared.schemas import Page
from shared.webhooks import config, mapping, signature
from shared.webhooks.schemas import DeliveryOut, Receipt

log = get_logger("quarry.webhooks")
# Credentials a sender (or a proxy) may add; never stored. Signatures are MACs and stay.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
MAX_HEADERS = 64
MAX_HEADER_VALUE = 1024
# Verdicts of deliveries whose signature checked out: only these keep their body and can be
# re-delivered (`invalid` ones were signed but named no usable URLs).
VERIFIED = frozenset({"accepted", "duplicate", "redelivered", "invalid"})


def stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers kept in the inbox: lower-case names, credentials removed, sizes capped."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        if low in SECRET_HEADERS or any(w in low for w in ("token", "secret", "password")):
            continue
        if len(kept) < MAX_HEADERS:
            kept[low[:100]] = value[:MAX_HEADER_VALUE]
    return kept


@dataclass(frozen=True)
class Outcome:
    """What a delivery did: `duplicate` when an earlier copy already started its run."""

    receipt: Receipt

    @property
    def status(self) -> int:
        return 200 if self.receipt.duplicate else 202


def _secret(rt: Runtime) -> bytes:
    return rt.settings.secret_key.get_secret_value().encode()


async def _record(
    rt: Runtime,
    source_id: str,
    headers: Mapping[str, str],
    body: bytes,
    verdict: str,
    detail: str | None,
    redelivery_of: str | None = None,
) -> None:
    async with rt.db.writer() as session:
        session.add(
            WebhookDelivery(
                source_id=source_id,
                message_id=_message_id(headers),
                headers=stored_headers(headers),
                **_body_fields(body, keep=verdict in VERIFIED),
                verdict=verdict,
                detail=detail,
                redelivery_of=redelivery_of,
            )
        )


def _body_fields(body: bytes, *, keep: bool) -> dict[str, object]:
    """The body (only when kept), its size and its sha256."""
    return {
        "body": body if keep else None,
        "size": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }


def _message_id(headers: Mapping[str, str]) -> str | None:
    for name in ("webhook-id", "x-github-delivery", "x-delivery-id", "idempotency-key"):
        if headers.get(name):
            return headers[name][: signature.MAX_ID]
    return None


async def receive(
    rt: Runtime, source_id: str, headers: Mapping[str, str], body: bytes, now: float | None = None
) -> Outcome:
    """Verify a delivery, store it, and start its run once. SignatureError (401),
    TimestampError (400) and PayloadError (422) leave a rejected entry and no run."""
    check = await config.verifier(rt, source_id)
    low = {k.lower(): v for k, v in headers.items()}
    try:
        verified = signature.verify(
            check.scheme,
            low,
            body,
            check.secrets,
            time.time() if now is None else now,
            check.header,
        )
        urls = mapping.urls_from(body, check.urls_path) if check.urls_path else None
    except QuarryError as exc:
        verdict = "invalid" if isinstance(exc, PayloadError) else "rejected"
        await _record(rt, source_id, low, body, verdict, exc.detail)
        log.info("webhook refused", extra={"source_id": source_id, "verdict": verdict})
        raise
    return await _start(rt, source_id, low, body, verified.delivery_id, urls)


async def _start(
    rt: Runtime,
    source_id: str,
    headers: Mapping[str, str],
    body: bytes,
    delivery_id: str,
    urls: list[str] | None,
    redelivery_of: str | None = None,
) -> Outcome:
    entry = WebhookDelivery(
        source_id=source_id,
        delivery_id=delivery_id,
        message_id=_message_id(headers),
        headers=stored_headers(headers),
        **_body_fields(body, keep=True),
        verdict="redelivered" if redelivery_of else "accepted",
        urls=urls,
        redelivery_of=redelivery_of,
    )
    try:
        async with rt.db.writer() as session:
            session.add(entry)
            await session.flush()  # the unique key: a copy stops here (or waits, then stops)
            cap = rt.settings.max_active_runs_per_source
            run, ids = await runs.start_run_in(
                session, source_id, "webhook", max_active=cap, urls=urls, flow=rt.flow
            )
            entry.run_id = run.id
    except IntegrityError:
        return await _duplicate(rt, source_id, headers, body, delivery_id)
    await outbox.flush(rt.db, rt.dispatcher, ids)
    log.info("webhook accepted", extra={"source_id": source_id, "run_id": run.id})
    return Outcome(Receipt(delivery=entry.id, duplicate=False, run_id=run.id, urls=urls))


async def _duplicate(
    rt: Runtime, source_id: str, headers: Mapping[str, str], body: bytes, delivery_id: str
) -> Outcome:
    async with rt.db.writer() as session:
        first = await session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.source_id == source_id,
                WebhookDelivery.delivery_id == delivery_id,
            )
        )
    if first is None or first.run_id is None:  # the original is still being written
        raise ConflictError(f"delivery {delivery_id} is being processed; retry shortly")
    await _record(rt, source_id, headers, body, "duplicate", f"copy of delivery {first.id}")
    return Outcome(Receipt(delivery=first.id, duplicate=True, run_id=first.run_id, urls=first.urls))


async def redeliver(rt: Runtime, entry_id: str) -> Outcome:
    """Process a stored delivery again, as a new entry with a run of its own (an operator's
    action: the signature was checked when it arrived, and its timestamp has since aged)."""
    async with rt.db.writer() as session:
        entry = await session.get(WebhookDelivery, entry_id)
        if entry is None:
            raise NotFoundError(f"webhook delivery {entry_id} does not exist")
    if entry.verdict not in VERIFIED or entry.body is None:
        raise ConflictError(
            f"webhook delivery {entry_id} was {entry.verdict}: its signature did not check "
            "out, so nothing of it is kept to process; only verified deliveries "
            f"({', '.join(sorted(VERIFIED))}) can be re-delivered"
        )
    check = await config.verifier(rt, entry.source_id)
    urls = mapping.urls_from(entry.body, check.urls_path) if check.urls_path else None
    return await _start(
        rt,
        entry.source_id,
        entry.headers,
        entry.body,
        f"redelivery:{entry.id}:{time.time_ns()}",
        urls,
        redelivery_of=entry.id,
    )


def to_out(row: WebhookDelivery) -> DeliveryOut:
    body = None if row.body is None else row.body.decode("utf-8", errors="replace")
    return DeliveryOut.model_validate(
        {**{c: getattr(row, c) for c in DeliveryOut.model_fields if c != "body"}, "body": body}
    )


async def list_(
    rt: Runtime, limit: int, cursor: str | None, source_id: str | None = None
) -> Page[DeliveryOut]:
    stmt = select(WebhookDelivery)
    if source_id is not None:
        stmt = stmt.where(WebhookDelivery.source_id == source_id)
    stmt = keyset(stmt, WebhookDelivery.created_at, WebhookDelivery.id, cursor, limit, _secret(rt))
    async with rt.db.reader() as session:
        rows = (await session.scalars(stmt)).all()
    items, nxt = page_of(rows, limit, _secret(rt), "created_at")
    return Page[DeliveryOut](items=[to_out(r) for r in items], next_cursor=nxt)


async def get(rt: Runtime, entry_id: str) -> DeliveryOut:
    async with rt.db.reader() as session:
        row = await session.get(WebhookDelivery, entry_id)
    if row is None:
        raise NotFoundError(f"webhook delivery {entry_id} does not exist")
    return to_out(row)

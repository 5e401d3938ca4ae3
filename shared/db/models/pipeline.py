"""The pipeline's tables: sources, runs, outbox, documents, per-stage results, insights, LLM
calls and rollups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base, new_id, utcnow


class Source(Base):
    __tablename__ = "sources"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(Text)
    urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    schedule: Mapped[str | None] = mapped_column(String(200))
    # Crawl options of a `crawl` source (CrawlIn as a dict); None means the defaults.
    crawl: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Intelligence options: {"labels": {name: description}, "schema": JSON Schema}.
    intelligence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_created", "created_at", "id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    trigger: Mapped[str] = mapped_column(String(16), default="api")
    discovered: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    request_id: Mapped[str | None] = mapped_column(String(128), index=True)
    # The run's LLM budget (None: unlimited) and what its calls reserved and spent.
    budget_tokens: Mapped[int | None] = mapped_column(Integer)
    budget_usd: Mapped[float | None] = mapped_column(Float)
    spent_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    spent_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # Documents final in this run, and those of them that failed: counted in the transaction
    # that writes the result making them final, so the run settles without counting rows.
    documents_final: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    documents_failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Outbox(Base):
    """Dispatches written in the same transaction as the state they follow from."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("source_id", "url", name="uq_documents_source_url"),
        Index("ix_documents_updated", "updated_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(16), index=True)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    markdown: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    duplicate_of: Mapped[str | None] = mapped_column(String(32))
    status_code: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StageResult(Base):
    """One row per (run, document, stage); every stage write is an upsert on that key."""

    __tablename__ = "stage_results"
    __table_args__ = (
        UniqueConstraint("run_id", "document_id", "stage", name="uq_stage_results_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Insight(Base):
    __tablename__ = "insights"
    __table_args__ = (UniqueConstraint("run_id", "document_id", name="uq_insights_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    summary: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    sentiment: Mapped[float | None] = mapped_column(Float)
    sentiment_label: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    entities: Mapped[list[Any] | None] = mapped_column(JSON)
    label: Mapped[str | None] = mapped_column(String(200))
    label_scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    structured: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    missing_fields: Mapped[list[str] | None] = mapped_column(JSON)
    # ok | invalid_output (structured extraction failed validation) | budget_exceeded | failed
    status: Mapped[str] = mapped_column(String(16), default="ok", server_default="ok")
    tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class LlmCall(Base):
    """One LLM call of the intelligence stage: who answered, what it cost, how it ended."""

    __tablename__ = "llm_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[str | None] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    task: Mapped[str] = mapped_column(String(32))
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[float] = mapped_column(Float)
    cached: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rollup(Base):
    __tablename__ = "rollups"
    __table_args__ = (UniqueConstraint("source_id", "day", name="uq_rollups_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    documents: Mapped[int] = mapped_column(Integer)
    avg_sentiment: Mapped[float | None] = mapped_column(Float)
    languages: Mapped[dict[str, Any]] = mapped_column(JSON)
    top_keywords: Mapped[list[Any]] = mapped_column(JSON)
    # positive/neutral/negative counts; [[text, type, documents]]; {label: documents};
    # {keyword: documents} over every keyword of the day, which trends compare over time.
    sentiments: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    top_entities: Mapped[list[Any] | None] = mapped_column(JSON)
    labels: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

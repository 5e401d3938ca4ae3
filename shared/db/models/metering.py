"""The invocation ledger: recent invocations one by one, per-minute sums per function for the
charts and daily costs, and per-run sums for a run's estimated bill."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class Invocation(Base):
    """One invocation, kept a day for the function's page."""

    __tablename__ = "invocations"
    __table_args__ = (Index("ix_invocations_function_started", "function", "started_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    function: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(index=True)
    duration_ms: Mapped[float] = mapped_column(Float)
    billed_ms: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    architecture: Mapped[str] = mapped_column(String(16))
    cold: Mapped[bool] = mapped_column(Boolean)
    request_id: Mapped[str] = mapped_column(String(128))
    run_ids: Mapped[list[str]] = mapped_column(JSON)
    http_requests: Mapped[int] = mapped_column(Integer)
    sqs_requests: Mapped[int] = mapped_column(Integer)
    log_bytes: Mapped[int] = mapped_column(Integer)


class InvocationMinute(Base):
    """A function's invocations in one UTC minute whose durations fell in one histogram
    bucket (`le_ms`, its upper bound): summing a minute's rows gives its totals, their counts
    per bucket its percentiles."""

    __tablename__ = "invocation_minutes"
    function: Mapped[str] = mapped_column(String(64), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    le_ms: Mapped[float] = mapped_column(Float, primary_key=True)
    invocations: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    cold_starts: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    billed_ms: Mapped[int] = mapped_column(BigInteger)
    mb_ms: Mapped[int] = mapped_column(BigInteger)
    http_requests: Mapped[int] = mapped_column(BigInteger)
    sqs_requests: Mapped[int] = mapped_column(BigInteger)
    log_bytes: Mapped[int] = mapped_column(BigInteger)
    memory_mb: Mapped[int] = mapped_column(Integer)
    architecture: Mapped[str] = mapped_column(String(16))


class RunUsage(Base):
    """What one function spent on one run: shares of invocations whose records belong to it
    (an invocation carrying several runs' records splits by record)."""

    __tablename__ = "run_usage"
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    function: Mapped[str] = mapped_column(String(64), primary_key=True)
    invocations: Mapped[float] = mapped_column(Float)
    billed_ms: Mapped[float] = mapped_column(Float)
    mb_ms: Mapped[float] = mapped_column(Float)
    lambda_requests: Mapped[float] = mapped_column(Float)
    http_requests: Mapped[float] = mapped_column(Float)
    sqs_requests: Mapped[float] = mapped_column(Float)
    log_bytes: Mapped[float] = mapped_column(Float)
    memory_mb: Mapped[int] = mapped_column(Integer)
    architecture: Mapped[str] = mapped_column(String(16))

"""invocation ledger: invocations, per-minute sums per function, per-run usage

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invocations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("function", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("billed_ms", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("architecture", sa.String(length=16), nullable=False),
        sa.Column("cold", sa.Boolean(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("run_ids", sa.JSON(), nullable=False),
        sa.Column("http_requests", sa.Integer(), nullable=False),
        sa.Column("sqs_requests", sa.Integer(), nullable=False),
        sa.Column("log_bytes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invocations")),
    )
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invocations_function_started", ["function", "started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_invocations_started_at"), ["started_at"], unique=False
        )
    op.create_table(
        "invocation_minutes",
        sa.Column("function", sa.String(length=64), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("le_ms", sa.Float(), nullable=False),
        sa.Column("invocations", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("cold_starts", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("billed_ms", sa.BigInteger(), nullable=False),
        sa.Column("mb_ms", sa.BigInteger(), nullable=False),
        sa.Column("http_requests", sa.BigInteger(), nullable=False),
        sa.Column("sqs_requests", sa.BigInteger(), nullable=False),
        sa.Column("log_bytes", sa.BigInteger(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("architecture", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("function", "minute", "le_ms", name=op.f("pk_invocation_minutes")),
    )
    with op.batch_alter_table("invocation_minutes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invocation_minutes_minute"), ["minute"], unique=False
        )
    op.create_table(
        "run_usage",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("function", sa.String(length=64), nullable=False),
        sa.Column("invocations", sa.Float(), nullable=False),
        sa.Column("billed_ms", sa.Float(), nullable=False),
        sa.Column("mb_ms", sa.Float(), nullable=False),
        sa.Column("lambda_requests", sa.Float(), nullable=False),
        sa.Column("http_requests", sa.Float(), nullable=False),
        sa.Column("sqs_requests", sa.Float(), nullable=False),
        sa.Column("log_bytes", sa.Float(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("architecture", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "function", name=op.f("pk_run_usage")),
    )


def downgrade() -> None:
    op.drop_table("run_usage")
    with op.batch_alter_table("invocation_minutes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invocation_minutes_minute"))
    op.drop_table("invocation_minutes")
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invocations_started_at"))
        batch_op.drop_index("ix_invocations_function_started")
    op.drop_table("invocations")

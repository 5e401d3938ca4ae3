"""llm calls, run budgets, richer insights, source intelligence options

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "llm_calls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_llm_calls_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_calls")),
    )
    with op.batch_alter_table("llm_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_llm_calls_run_id"), ["run_id"], unique=False)

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("budget_tokens", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("budget_usd", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("spent_tokens", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("spent_usd", sa.Float(), server_default="0", nullable=False))

    with op.batch_alter_table("insights", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entities", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("label", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("label_scores", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("structured", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("missing_fields", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="ok", nullable=False)
        )
        batch_op.add_column(sa.Column("tokens", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("cost_usd", sa.Float(), server_default="0", nullable=False))

    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intelligence", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("intelligence")

    with op.batch_alter_table("insights", schema=None) as batch_op:
        for column in (
            "cost_usd",
            "tokens",
            "status",
            "missing_fields",
            "structured",
            "label_scores",
            "label",
            "entities",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("runs", schema=None) as batch_op:
        for column in ("spent_usd", "spent_tokens", "budget_usd", "budget_tokens"):
            batch_op.drop_column(column)

    with op.batch_alter_table("llm_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_llm_calls_run_id"))
    op.drop_table("llm_calls")

"""document markdown site name and validators

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 00:07:40.922944
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("markdown", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("site_name", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("etag", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_modified", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("last_modified")
        batch_op.drop_column("etag")
        batch_op.drop_column("site_name")
        batch_op.drop_column("markdown")

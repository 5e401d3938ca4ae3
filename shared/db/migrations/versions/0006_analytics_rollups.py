"""analytics rollups: sentiment distribution, top entities, label counts, term counts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("sentiments", "top_entities", "labels", "terms")


def upgrade() -> None:
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)

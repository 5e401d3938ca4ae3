"""run progress counters

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 10:00:00

Each run counts its final documents (and the failed ones among them) in the same transaction
as the stage results that make them final, so a run settles in O(1) per message. Runs still
active when this migration runs get their counts from the results written so far.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A document is final in a run once a stage failed or skipped it, or intelligence (the last
# stage of the chain when this migration was written) succeeded with it.
_COUNT = """
UPDATE runs SET
  documents_final = (
    SELECT count(DISTINCT document_id) FROM stage_results
    WHERE stage_results.run_id = runs.id AND stage_results.stage <> 'discovery'
      AND (stage_results.status <> 'succeeded' OR stage_results.stage = 'intelligence')
  ),
  documents_failed = (
    SELECT count(DISTINCT document_id) FROM stage_results
    WHERE stage_results.run_id = runs.id AND stage_results.status = 'failed'
  )
WHERE state IN ('queued', 'running')
"""


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("documents_final", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("documents_failed", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(_COUNT)


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("documents_failed")
        batch_op.drop_column("documents_final")

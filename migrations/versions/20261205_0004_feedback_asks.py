"""feedback asks: a feedback row is written when the survey is asked; its rating stays NULL until answered

The survey is optional: a customer who ignores it, declines it or goes on with another request leaves a
row without a rating ("not answered"), which the response rate counts as a request but not as a rating.

Revision ID: 0004_feedback_asks
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_feedback_asks"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.alter_column("rating", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM feedback WHERE rating IS NULL")
    with op.batch_alter_table("feedback") as batch:
        batch.alter_column("rating", existing_type=sa.Integer(), nullable=False)

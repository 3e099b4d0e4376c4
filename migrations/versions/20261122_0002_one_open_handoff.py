"""one open handoff per conversation

Two action-server replicas could both queue a handoff for one conversation (a read-then-insert
race on PostgreSQL). A partial unique index makes the second insert fail; desk.handoffs retries
and returns the first one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('queued', 'assigned')")


def upgrade() -> None:
    op.create_index("uq_handoffs_open_conversation", "handoffs", ["conversation_id"], unique=True,
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index("uq_handoffs_open_conversation", table_name="handoffs")

"""proactive messages: every message sent first by the proactive-care scheduler, with its reason

``proactive_messages`` holds one row per (customer, kind, ref): an order-delay notice, a follow-up
after a closed complaint or low rating, a birthday greeting; where it went (web widget or WeChat),
whether it is waiting for the customer, sent or held, and why it was sent. Text and reason are masked.

Existing data: none (a new table).

Revision ID: 0009_proactive_messages
Revises: 0008_offers_accessibility
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_proactive_messages"
down_revision = "0008_offers_accessibility"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proactive_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("customer_id", "kind", "ref", name="uq_proactive_once"),
    )
    op.create_index("ix_proactive_messages_customer_id", "proactive_messages", ["customer_id"])
    op.create_index("ix_proactive_messages_conversation_id", "proactive_messages", ["conversation_id"])
    op.create_index("ix_proactive_messages_created_at", "proactive_messages", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_proactive_messages_created_at", table_name="proactive_messages")
    op.drop_index("ix_proactive_messages_conversation_id", table_name="proactive_messages")
    op.drop_index("ix_proactive_messages_customer_id", table_name="proactive_messages")
    op.drop_table("proactive_messages")

"""shop requests: how an order was paid, its change trail, and the promotional-messages choice

``orders.payment_method`` tells the customer when the money of a cancelled order returns
(knowledge_base/payment_methods.yml). ``order_changes`` is the append-only record of every cancellation
or item change made from a conversation. ``consents.marketing`` is the customer's choice about
promotional messages; ``consent_changes.marketing`` marks the changes that were about it.

Existing data: payment method unknown (NULL), promotional messages on (as before), no changes recorded.

Revision ID: 0005_shop_requests
Revises: 0004_feedback_asks
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_shop_requests"
down_revision = "0004_feedback_asks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("payment_method", sa.String(length=16), nullable=True))
    with op.batch_alter_table("consents") as batch:
        batch.add_column(sa.Column("marketing", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("consent_changes") as batch:
        batch.add_column(sa.Column("marketing", sa.Boolean(), nullable=True))
    op.create_table(
        "order_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status_before", sa.String(length=20), nullable=False),
        sa.Column("status_after", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_order_changes_order_id", "order_changes", ["order_id"])
    op.create_index("ix_order_changes_customer_id", "order_changes", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_order_changes_customer_id", table_name="order_changes")
    op.drop_index("ix_order_changes_order_id", table_name="order_changes")
    op.drop_table("order_changes")
    with op.batch_alter_table("consent_changes") as batch:
        batch.drop_column("marketing")
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("marketing")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("payment_method")

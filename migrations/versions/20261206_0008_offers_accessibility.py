"""offers and accessibility: offers as records; a declared accessibility need and a birthday on the profile

``offers`` holds every coupon or benefit made to a customer (kind, code, amount, issued / expires /
redeemed, channel, reason, experiment arm). ``customers.accessibility`` holds a need the customer
declared (visual, hearing, motor, cognitive) and ``customers.birthday`` the date birthday care uses;
``consent_changes.accessibility`` marks the change that recorded the customer's consent to keep that need.

Existing data: no offers; no accessibility need and no birthday recorded (NULL).

Revision ID: 0008_offers_accessibility
Revises: 0007_consent_intensity
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_offers_accessibility"
down_revision = "0007_consent_intensity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("accessibility", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("birthday", sa.Date(), nullable=True))
    with op.batch_alter_table("consent_changes") as batch:
        batch.add_column(sa.Column("accessibility", sa.String(length=16), nullable=True))
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2, asdecimal=False), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(), nullable=True),
        sa.Column("redeemed_order_id", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("experiment", sa.String(length=48), nullable=True),
        sa.Column("arm", sa.String(length=24), nullable=True),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index(op.f("ix_offers_customer_id"), "offers", ["customer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_offers_customer_id"), table_name="offers")
    op.drop_table("offers")
    with op.batch_alter_table("consent_changes") as batch:
        batch.drop_column("accessibility")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("birthday")
        batch.drop_column("accessibility")

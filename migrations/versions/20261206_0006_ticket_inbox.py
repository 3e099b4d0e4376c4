"""ticket inbox: owner, team and resolution of a ticket, and its trail of claims, notes and resolutions

``tickets.owner`` is the agent who claimed the ticket (NULL = unassigned), ``tickets.team`` the team it
belongs to (free text for now), ``tickets.resolution_reason`` one of desk.ticket_inbox.RESOLUTION_REASONS
with ``tickets.resolution_note``. ``ticket_events`` is the append-only trail (claim, internal note, resolve).

Existing data: every ticket unassigned, no team, no resolution reason, no events.

Revision ID: 0006_ticket_inbox
Revises: 0005_shop_requests
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_ticket_inbox"
down_revision = "0005_shop_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("team", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("resolution_reason", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("resolution_note", sa.Text(), nullable=True))
        batch.create_index("ix_tickets_owner", ["owner"])
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_ticket_id", table_name="ticket_events")
    op.drop_table("ticket_events")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_owner")
        batch.drop_column("resolution_note")
        batch.drop_column("resolution_reason")
        batch.drop_column("team")
        batch.drop_column("owner")

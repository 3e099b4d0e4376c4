"""desk availability and teams: agents' availability switch and capacity, teams with members, the team
a handoff is routed to, and the audit of transfers

``agent_availability`` holds an agent's switch (online / away / offline), capacity (concurrent chats)
and when the console last heard from them; ``teams`` / ``team_members`` the teams handoffs are routed to
(seeded: refunds, complaints, english, general); ``handoffs.team`` the team of a handoff;
``handoff_transfers`` who passed a conversation to which team or agent, with the private note.

Existing data: no agent has used the switch (no rows: the desk queues as before until one does), the
four teams without members, no team on existing handoffs, no transfers.

Revision ID: 0010_desk_teams
Revises: 0009_proactive_messages
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_desk_teams"
down_revision = "0009_proactive_messages"
branch_labels = None
depends_on = None

SEED_TEAMS = ("refunds", "complaints", "english", "general")


def upgrade() -> None:
    op.create_table(
        "agent_availability",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id"),
    )
    teams = op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "agent_id"),
    )
    op.create_table(
        "handoff_transfers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("from_agent", sa.String(length=64), nullable=False),
        sa.Column("to_team", sa.String(length=32), nullable=True),
        sa.Column("to_agent", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_transfers_handoff_id", "handoff_transfers", ["handoff_id"])
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("team", sa.String(length=32), nullable=True))
        batch.create_index("ix_handoffs_team", ["team"])
    op.bulk_insert(teams, [{"name": name} for name in SEED_TEAMS])


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_index("ix_handoffs_team")
        batch.drop_column("team")
    op.drop_index("ix_handoff_transfers_handoff_id", table_name="handoff_transfers")
    op.drop_table("handoff_transfers")
    op.drop_table("team_members")
    op.drop_table("teams")
    op.drop_table("agent_availability")

"""conversation sessions: the dashboards count Rasa sessions, not sender ids

A returning customer keeps one sender id (``web-<customer>``, ``wechat:<openid>``) for ever, so the
``conversations`` row is per customer and channel. ``conversation_sessions`` holds one row per Rasa
session (opened at every session start, closed when the next opens) with that session's segment, arm,
tone and sentiment at its start and end.

Existing data: one session per existing conversation, from its ``started_at`` with no end, carrying the
per-sender signals (the history before this revision cannot be split into sessions).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("customer_id", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("segment", sa.String(length=24), nullable=True),
        sa.Column("arm", sa.String(length=24), nullable=True),
        sa.Column("tone", sa.String(length=16), nullable=True),
        sa.Column("sentiment_start", sa.Float(), nullable=True),
        sa.Column("sentiment_end", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_conversation_sessions_started_at", "conversation_sessions", ["started_at"])
    op.create_index("ix_conversation_sessions_conversation_started", "conversation_sessions",
                    ["conversation_id", "started_at"])
    op.execute(
        "INSERT INTO conversation_sessions (conversation_id, started_at, ended_at, channel, customer_id, language, "
        "segment, arm, tone, sentiment_start, sentiment_end, updated_at) "
        "SELECT c.id, c.started_at, NULL, c.channel, c.customer_id, c.language, s.segment, s.arm, s.tone, "
        "s.sentiment_start, s.sentiment_end, c.updated_at "
        "FROM conversations c LEFT JOIN conversation_signals s ON s.conversation_id = c.id"
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_sessions_conversation_started", table_name="conversation_sessions")
    op.drop_index("ix_conversation_sessions_started_at", table_name="conversation_sessions")
    op.drop_table("conversation_sessions")

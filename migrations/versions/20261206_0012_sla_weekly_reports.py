"""weekly reports: the scheduled weekly summary and the misunderstood customer lines it lists

``weekly_reports`` holds one row per week (figures as JSON: counts and rates); ``weekly_report_messages``
the masked customer lines the bot did not understand that week, per conversation (export and erasure).

Existing data: none (the first scheduled run after the upgrade writes the last complete week).

Revision ID: 0012_sla_weekly_reports
Revises: 0011_desk_context_search
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_sla_weekly_reports"
down_revision = "0011_desk_context_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "weekly_reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.UniqueConstraint("week_start"),
    )
    op.create_table(
        "weekly_report_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("weekly_reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_weekly_report_messages_report_id", "weekly_report_messages", ["report_id"])
    op.create_index("ix_weekly_report_messages_conversation_id", "weekly_report_messages", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_weekly_report_messages_conversation_id", table_name="weekly_report_messages")
    op.drop_index("ix_weekly_report_messages_report_id", table_name="weekly_report_messages")
    op.drop_table("weekly_report_messages")
    op.drop_table("weekly_reports")

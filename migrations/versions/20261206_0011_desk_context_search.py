"""desk context and search: canned replies, conversation labels, the transcript search index

``canned_replies``: the canned replies supervisors edit in the console (zh/en); the defaults of
``desk/console/canned.yml`` are copied in by the console the first time it reads an empty table.
``conversation_labels``: labels on conversations. ``transcript_lines`` / ``transcript_index_state``:
the masked transcript lines with their jieba tokens, searched on PostgreSQL through a GIN index over
``to_tsvector('simple', tokens)`` (SQLite's FTS5 index is the embedded default's, made by create_all).

Existing data: no rows; the search index fills itself as transcripts are read.

Revision ID: 0011_desk_context_search
Revises: 0010_desk_teams
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_desk_context_search"
down_revision = "0010_desk_teams"
branch_labels = None
depends_on = None

PG_INDEX = "ix_transcript_lines_tsv"


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_canned_replies_language", "canned_replies", ["language"])
    op.create_table(
        "conversation_labels",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("conversation_id", "label", name="uq_conversation_labels"),
    )
    op.create_index("ix_conversation_labels_conversation_id", "conversation_labels", ["conversation_id"])
    op.create_index("ix_conversation_labels_label", "conversation_labels", ["label"])
    op.create_table(
        "transcript_lines",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("sender", sa.String(length=8), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
    )
    op.create_index("ix_transcript_lines_conversation_id", "transcript_lines", ["conversation_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {PG_INDEX} ON transcript_lines USING gin (to_tsvector('simple', tokens))")
    op.create_table(
        "transcript_index_state",
        sa.Column("conversation_id", sa.String(length=128), primary_key=True),
        sa.Column("indexed_until", sa.Float(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("transcript_index_state")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    op.drop_index("ix_transcript_lines_conversation_id", table_name="transcript_lines")
    op.drop_table("transcript_lines")
    op.drop_index("ix_conversation_labels_label", table_name="conversation_labels")
    op.drop_index("ix_conversation_labels_conversation_id", table_name="conversation_labels")
    op.drop_table("conversation_labels")
    op.drop_index("ix_canned_replies_language", table_name="canned_replies")
    op.drop_table("canned_replies")

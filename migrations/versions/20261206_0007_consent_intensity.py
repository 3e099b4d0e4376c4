"""consent intensity: the customer's personalisation intensity changes are recorded

``consent_changes.intensity`` marks the changes that set the personalisation intensity
(``low`` / ``medium`` / ``high``); switching personalisation off stays ``personalization = false``.

Existing data: no intensity recorded on earlier changes (NULL).

Revision ID: 0007_consent_intensity
Revises: 0006_ticket_inbox
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_consent_intensity"
down_revision = "0006_ticket_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_changes") as batch:
        batch.add_column(sa.Column("intensity", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_changes") as batch:
        batch.drop_column("intensity")

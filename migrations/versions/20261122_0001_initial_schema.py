"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('conversation_signals',
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('segment', sa.String(length=24), nullable=True),
    sa.Column('arm', sa.String(length=24), nullable=True),
    sa.Column('tone', sa.String(length=16), nullable=True),
    sa.Column('sentiment_start', sa.Float(), nullable=True),
    sa.Column('sentiment_end', sa.Float(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('conversation_id')
    )
    op.create_table('conversations',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.String(length=16), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_customer_id'), ['customer_id'], unique=False)

    op.create_table('customers',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('preferred_language', sa.String(length=2), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('registered_at', sa.Date(), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=True),
    sa.Column('phone_masked', sa.String(length=20), nullable=True),
    sa.Column('id_number_hash', sa.String(length=64), nullable=True),
    sa.Column('id_number_masked', sa.String(length=24), nullable=True),
    sa.Column('email_hash', sa.String(length=64), nullable=True),
    sa.Column('email_masked', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_email_hash'), ['email_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_id_number_hash'), ['id_number_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_phone_hash'), ['phone_hash'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('customer_id', sa.String(length=16), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=True),
    sa.Column('tone', sa.String(length=16), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('handoff_id', sa.Integer(), nullable=True),
    sa.Column('followup_ticket_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name='ck_feedback_rating'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key', name='uq_feedback_idempotency')
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_customer_id'), ['customer_id'], unique=False)

    op.create_table('handoffs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('customer_id', sa.String(length=16), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=True),
    sa.Column('reason', sa.String(length=24), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('package', sa.JSON(), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoffs_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handoffs_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handoffs_status'), ['status'], unique=False)

    op.create_table('pii_reveals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('supervisor', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=16), nullable=False),
    sa.Column('field', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pii_reveals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pii_reveals_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pii_reveals_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pii_reveals_supervisor'), ['supervisor'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.String(length=16), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('topic', sa.String(length=24), nullable=False),
    sa.Column('order_id', sa.String(length=16), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_order_id'), ['order_id'], unique=False)

    op.create_table('transcript_reviews',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('accuracy', sa.Integer(), nullable=False),
    sa.Column('empathy', sa.Integer(), nullable=False),
    sa.Column('resolution', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('accuracy BETWEEN 1 AND 5', name='ck_review_accuracy'),
    sa.CheckConstraint('empathy BETWEEN 1 AND 5', name='ck_review_empathy'),
    sa.CheckConstraint('resolution BETWEEN 1 AND 5', name='ck_review_resolution'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transcript_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_reviews_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('wechat_kv',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('wechat_kv', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_kv_expires_at'), ['expires_at'], unique=False)

    op.create_table('wechat_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('wechat_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_outbox_openid'), ['openid'], unique=False)
        batch_op.create_index(batch_op.f('ix_wechat_outbox_status'), ['status'], unique=False)

    op.create_table('agent_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('agent_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_sessions_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_sessions_expires_at'), ['expires_at'], unique=False)

    op.create_table('channel_identities',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('customer_id', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'external_id', name='uq_channel_identity')
    )
    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_identities_customer_id'), ['customer_id'], unique=False)

    op.create_table('consent_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.String(length=16), nullable=False),
    sa.Column('personalization', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_changes_customer_id'), ['customer_id'], unique=False)

    op.create_table('consents',
    sa.Column('customer_id', sa.String(length=16), nullable=False),
    sa.Column('personalization', sa.Boolean(), nullable=False),
    sa.Column('intensity', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id')
    )
    op.create_table('customer_vault',
    sa.Column('customer_id', sa.String(length=16), nullable=False),
    sa.Column('phone_sealed', sa.String(length=255), nullable=True),
    sa.Column('id_number_sealed', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id')
    )
    op.create_table('followup_closures',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('closed_by', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id')
    )
    op.create_table('handoff_notes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('handoff_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('handoff_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoff_notes_handoff_id'), ['handoff_id'], unique=False)

    op.create_table('handoff_responses',
    sa.Column('handoff_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('first_response_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('handoff_id')
    )
    op.create_table('orders',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('shipped_at', sa.DateTime(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('eta', sa.Date(), nullable=True),
    sa.Column('carrier', sa.String(length=16), nullable=True),
    sa.Column('tracking_no', sa.String(length=40), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_customer_id'), ['customer_id'], unique=False)

    op.create_table('ticket_contacts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.String(length=16), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_contacts_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_contacts_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_contacts_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_contacts_customer_id'))

    op.drop_table('ticket_contacts')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_customer_id'))

    op.drop_table('orders')
    op.drop_table('handoff_responses')
    with op.batch_alter_table('handoff_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_notes_handoff_id'))

    op.drop_table('handoff_notes')
    op.drop_table('followup_closures')
    op.drop_table('customer_vault')
    op.drop_table('consents')
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_changes_customer_id'))

    op.drop_table('consent_changes')
    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_identities_customer_id'))

    op.drop_table('channel_identities')
    with op.batch_alter_table('agent_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_agent_sessions_agent_id'))

    op.drop_table('agent_sessions')
    with op.batch_alter_table('wechat_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_wechat_outbox_openid'))

    op.drop_table('wechat_outbox')
    with op.batch_alter_table('wechat_kv', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_kv_expires_at'))

    op.drop_table('wechat_kv')
    with op.batch_alter_table('transcript_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_reviews_conversation_id'))

    op.drop_table('transcript_reviews')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_order_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_customer_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_conversation_id'))

    op.drop_table('tickets')
    with op.batch_alter_table('pii_reveals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pii_reveals_supervisor'))
        batch_op.drop_index(batch_op.f('ix_pii_reveals_customer_id'))
        batch_op.drop_index(batch_op.f('ix_pii_reveals_created_at'))

    op.drop_table('pii_reveals')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoffs_status'))
        batch_op.drop_index(batch_op.f('ix_handoffs_customer_id'))
        batch_op.drop_index(batch_op.f('ix_handoffs_conversation_id'))

    op.drop_table('handoffs')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_customer_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_conversation_id'))

    op.drop_table('feedback')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_phone_hash'))
        batch_op.drop_index(batch_op.f('ix_customers_id_number_hash'))
        batch_op.drop_index(batch_op.f('ix_customers_email_hash'))

    op.drop_table('customers')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_customer_id'))

    op.drop_table('conversations')
    op.drop_table('conversation_signals')
    op.drop_table('agents')

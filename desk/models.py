"""What happened and who handles it: conversations, tickets, handoffs, feedback (only ``desk`` writes them).

Every free-text column that may carry personal data is masked by ``common.masking`` before it is stored.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.sql.schema import Column

from common.db import Base


def _now() -> datetime:
    return datetime.utcnow()


class ConversationStatus(str, enum.Enum):
    BOT = "bot"
    QUEUED = "queued"
    WITH_AGENT = "with_agent"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"
    TIMED_OUT = "timed_out"


class TicketTopic(str, enum.Enum):
    REFUND = "refund"
    ORDER = "order"
    ADDRESS = "address"
    COMPLAINT = "complaint"
    FEEDBACK_FOLLOWUP = "feedback_followup"
    AFTER_SALES = "after_sales"  # wrong, damaged or missing item (actions/shop.py)
    PAYMENT = "payment"  # charged twice, payment not through, refund not arrived
    INVOICE = "invoice"
    PRIVACY = "privacy"  # delete my account / my data
    ORDER_CHANGE = "order_change"  # size, colour or quantity before shipping
    OTHER = "other"


class TicketStatus(str, enum.Enum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self in {TicketStatus.OPEN, TicketStatus.PENDING}


class Priority(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class HandoffStatus(str, enum.Enum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"  # the customer left the queue before an agent claimed it


class HandoffReason(str, enum.Enum):
    REFUND = "refund"
    USER_REQUEST = "user_request"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    BOT_FAILURE = "bot_failure"
    PRIORITY_CUSTOMER = "priority_customer"


class Conversation(Base):
    """One Rasa conversation (``sender_id``) as the desk sees it."""

    __tablename__ = "conversations"

    id = Column(String(128), primary_key=True)  # Rasa sender_id
    channel = Column(String(16), nullable=False, default="rest")
    customer_id = Column(String(16), nullable=True, index=True)
    language = Column(String(2), nullable=True)
    status = Column(String(16), nullable=False, default=ConversationStatus.BOT.value)
    started_at = Column(DateTime, nullable=False, default=_now)
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)


class Ticket(Base):
    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True, autoincrement=True)
    customer_id = Column(String(16), nullable=True, index=True)
    conversation_id = Column(String(128), nullable=True, index=True)
    topic = Column(String(24), nullable=False)
    order_id = Column(String(16), nullable=True, index=True)
    subject = Column(String(300), nullable=False)
    status = Column(String(12), nullable=False, default=TicketStatus.OPEN.value)
    priority = Column(String(8), nullable=False, default=Priority.MEDIUM.value)
    channel = Column(String(16), nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now)
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)
    due_at = Column(DateTime, nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    owner = Column(String(64), nullable=True, index=True)  # the agent who claimed it (None = unassigned)
    team = Column(String(32), nullable=True)
    resolution_reason = Column(String(24), nullable=True)  # desk.ticket_inbox.RESOLUTION_REASONS
    resolution_note = Column(Text, nullable=True)


class TicketEvent(Base):
    """Append-only trail of a ticket in the inbox: claimed, internal note, resolved (who, when, text)."""

    __tablename__ = "ticket_events"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    actor = Column(String(64), nullable=False)
    kind = Column(String(12), nullable=False)  # claim | note | resolve
    text = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now)


class TicketContact(Base):
    """One customer contact about a ticket: the basis of "third contact about this refund in 30 days"."""

    __tablename__ = "ticket_contacts"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    customer_id = Column(String(16), nullable=True, index=True)
    conversation_id = Column(String(128), nullable=True)
    channel = Column(String(16), nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now)


class Handoff(Base):
    """A request for a human, carrying the warm-handoff package the agent reads first."""

    __tablename__ = "handoffs"
    __table_args__ = (
        # at most one open (queued or assigned) handoff per conversation, whatever process writes it
        Index(
            "uq_handoffs_open_conversation", "conversation_id", unique=True,
            postgresql_where=text("status IN ('queued', 'assigned')"),
            sqlite_where=text("status IN ('queued', 'assigned')"),
        ),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    customer_id = Column(String(16), nullable=True, index=True)
    channel = Column(String(16), nullable=False, default="rest")
    language = Column(String(2), nullable=True)
    reason = Column(String(24), nullable=False)
    priority = Column(Integer, nullable=False)  # lower = served first
    status = Column(String(12), nullable=False, default=HandoffStatus.QUEUED.value, index=True)
    summary = Column(Text, nullable=False)
    package = Column(JSON, nullable=False)  # masked profile, sentiment trend, tickets, last messages
    agent_id = Column(String(64), nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now)
    claimed_at = Column(DateTime, nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    team = Column(String(32), nullable=True, index=True)  # the team it is routed to (desk.teams)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_feedback_rating"),
        UniqueConstraint("idempotency_key", name="uq_feedback_idempotency"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    customer_id = Column(String(16), nullable=True, index=True)
    channel = Column(String(16), nullable=False, default="rest")
    language = Column(String(2), nullable=True)
    tone = Column(String(16), nullable=True)
    rating = Column(Integer, nullable=True)  # NULL: asked, not answered (FeedbackLog.record_ask)
    comment = Column(Text, nullable=True)
    handoff_id = Column(Integer, nullable=True)
    followup_ticket_id = Column(Integer, nullable=True)
    # the same rating delivered twice (a retried request) is stored once
    idempotency_key = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False, default=_now)


class AgentRole(str, enum.Enum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class Agent(Base):
    """A person who works in the console: an agent claims handoffs, a supervisor also reviews."""

    __tablename__ = "agents"

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(100), nullable=False)
    role = Column(String(16), nullable=False, default=AgentRole.AGENT.value)
    password_hash = Column(String(255), nullable=False)  # scrypt, per-user salt (desk.passwords)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=_now)


class AgentSession(Base):
    """A signed-in browser: only a hash of the cookie's token is kept, with the session's CSRF token."""

    __tablename__ = "agent_sessions"

    token_hash = Column(String(64), primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=_now)
    expires_at = Column(DateTime, nullable=False, index=True)


class HandoffNote(Base):
    """An agent's private note on a handoff: stored for colleagues, never sent to the customer."""

    __tablename__ = "handoff_notes"

    id = Column(Integer, primary_key=True, autoincrement=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    agent_id = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=_now)


# --- supervisor review, dashboards, experiments (issue 5) ---------------------------------------


class ConversationSignals(Base):
    """Superseded by ``ConversationSession`` (the same signals per Rasa session, which the dashboards
    read); no longer written. The table stays for the rows older deployments hold (migration 0001)."""

    __tablename__ = "conversation_signals"

    conversation_id = Column(String(128), primary_key=True)
    segment = Column(String(24), nullable=True)
    arm = Column(String(24), nullable=True)  # tone-strategy experiment arm (desk.experiment)
    tone = Column(String(16), nullable=True)  # latest tone
    sentiment_start = Column(Float, nullable=True)  # score of the first scored customer line
    sentiment_end = Column(Float, nullable=True)  # score of the latest one
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)


class ConversationSession(Base):
    """One Rasa session of a conversation (a new one starts after the session expiry, e.g. a returning
    customer on the same ``web-…``/``wechat:…`` sender id): the unit the dashboards count. Opened by
    ``ConversationLog.touch`` at every session start, closed (``ended_at``) when the next one opens;
    handoffs and ratings belong to the session whose [started_at, ended_at) holds their ``created_at``."""

    __tablename__ = "conversation_sessions"
    __table_args__ = (Index("ix_conversation_sessions_conversation_started", "conversation_id", "started_at"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False)  # Rasa sender_id
    started_at = Column(DateTime, nullable=False, index=True)
    ended_at = Column(DateTime, nullable=True)  # when the next session started; None = the latest
    channel = Column(String(16), nullable=True)
    customer_id = Column(String(16), nullable=True)
    language = Column(String(2), nullable=True)
    segment = Column(String(24), nullable=True)
    arm = Column(String(24), nullable=True)
    tone = Column(String(16), nullable=True)  # latest tone in this session
    sentiment_start = Column(Float, nullable=True)  # first scored customer line of this session
    sentiment_end = Column(Float, nullable=True)  # latest one
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)


class HandoffResponse(Base):
    """The first line an agent sent on a handoff (human first-response time = this - created_at)."""

    __tablename__ = "handoff_responses"

    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), primary_key=True)
    agent_id = Column(String(64), nullable=False)
    first_response_at = Column(DateTime, nullable=False)


class TranscriptReview(Base):
    """A supervisor's QA score (1–5 on each criterion) and notes on a conversation."""

    __tablename__ = "transcript_reviews"
    __table_args__ = tuple(
        CheckConstraint(f"{c} BETWEEN 1 AND 5", name=f"ck_review_{c}") for c in ("accuracy", "empathy", "resolution")
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    reviewer = Column(String(64), nullable=False)
    accuracy = Column(Integer, nullable=False)
    empathy = Column(Integer, nullable=False)
    resolution = Column(Integer, nullable=False)
    notes = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now)


class FollowupClosure(Base):
    """How a supervisor closed a low-CSAT follow-up (the ticket's status moves to closed)."""

    __tablename__ = "followup_closures"

    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    closed_by = Column(String(64), nullable=False)
    note = Column(Text, nullable=False)
    closed_at = Column(DateTime, nullable=False, default=_now)


class PiiReveal(Base):
    """Append-only audit log: every reveal of a masked personal field by a supervisor."""

    __tablename__ = "pii_reveals"

    id = Column(Integer, primary_key=True, autoincrement=True)
    supervisor = Column(String(64), nullable=False, index=True)
    customer_id = Column(String(16), nullable=False, index=True)
    field = Column(String(16), nullable=False)  # phone | id_number | name
    reason = Column(Text, nullable=False)
    conversation_id = Column(String(128), nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now, index=True)


# --- SLA report and the weekly scheduled report (desk/weekly_report.py) --------------------------


class WeeklyReport(Base):
    """One week's summary (CSAT, resolution, SLA, top handoff reasons), written by the scheduled job so
    past weeks can be opened again; ``figures`` holds counts and rates only (no customer data)."""

    __tablename__ = "weekly_reports"

    id = Column(Integer, primary_key=True, autoincrement=True)
    week_start = Column(Date, nullable=False, unique=True)  # the Monday (UTC) the week starts on
    generated_at = Column(DateTime, nullable=False, default=_now)
    figures = Column(JSON, nullable=False)


class WeeklyReportMessage(Base):
    """A customer line the bot did not understand that week (fallback or low confidence), masked; the
    report's "top misunderstood messages" are these grouped by text. Kept per conversation so a
    customer's lines are exported and erased with the rest of their data (desk/privacy.py)."""

    __tablename__ = "weekly_report_messages"

    id = Column(Integer, primary_key=True, autoincrement=True)
    report_id = Column(Integer, ForeignKey("weekly_reports.id", ondelete="CASCADE"), nullable=False, index=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    text = Column(Text, nullable=False)
    intent = Column(String(64), nullable=True)
    confidence = Column(Float, nullable=True)
    created_at = Column(DateTime, nullable=False)
# --- context, canned replies and transcript search (issue 14 items 5 and 8) ----------------------


class CannedReplyRow(Base):
    """A canned reply agents insert in the chat box, edited by supervisors (desk.canned); ``active`` False
    = removed (kept so the seeded defaults are not put back)."""

    __tablename__ = "canned_replies"

    id = Column(Integer, primary_key=True, autoincrement=True)
    language = Column(String(2), nullable=False, index=True)
    key = Column(String(40), nullable=False)  # the same key in zh and en names the same reply
    title = Column(String(80), nullable=False)
    text = Column(Text, nullable=False)
    position = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)
    updated_by = Column(String(64), nullable=True)
    updated_at = Column(DateTime, nullable=False, default=_now)


class ConversationLabel(Base):
    """A label an agent or supervisor put on a conversation (e.g. "vip", "refund-delay")."""

    __tablename__ = "conversation_labels"
    __table_args__ = (UniqueConstraint("conversation_id", "label", name="uq_conversation_labels"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    label = Column(String(32), nullable=False, index=True)
    added_by = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=_now)


class TranscriptLine(Base):
    """One transcript line for full-text search (desk.search): the masked text and its jieba tokens.
    SQLite searches the tokens through an FTS5 index (``transcript_fts``), PostgreSQL through
    ``to_tsvector('simple', tokens)`` (a GIN index in production)."""

    __tablename__ = "transcript_lines"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    sender = Column(String(8), nullable=False)  # customer | bot | agent
    timestamp = Column(Float, nullable=False)
    text = Column(Text, nullable=False)  # masked (common.masking)
    tokens = Column(Text, nullable=False)  # jieba tokens of the masked text, space-separated, lower case


class TranscriptIndexState(Base):
    """How far a conversation's tracker has been indexed (the newest event time read)."""

    __tablename__ = "transcript_index_state"

    conversation_id = Column(String(128), primary_key=True)
    indexed_until = Column(Float, nullable=False, default=0.0)
    checked_at = Column(DateTime, nullable=False, default=_now)


# The full-text index of transcript_lines (desk.search), made with the table by common.db.create_all:
# SQLite an FTS5 table kept in step by triggers, PostgreSQL a GIN index over to_tsvector('simple', tokens).
TRANSCRIPT_FTS_TABLE = "transcript_fts"
TRANSCRIPT_PG_INDEX = "ix_transcript_lines_tsv"
TRANSCRIPT_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TRANSCRIPT_FTS_TABLE} USING fts5(tokens, content='transcript_lines', "
    "content_rowid='id')",
    "CREATE TRIGGER IF NOT EXISTS transcript_lines_ai AFTER INSERT ON transcript_lines BEGIN "
    f"INSERT INTO {TRANSCRIPT_FTS_TABLE}(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS transcript_lines_ad AFTER DELETE ON transcript_lines BEGIN "
    f"INSERT INTO {TRANSCRIPT_FTS_TABLE}({TRANSCRIPT_FTS_TABLE}, rowid, tokens) VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS transcript_lines_au AFTER UPDATE ON transcript_lines BEGIN "
    f"INSERT INTO {TRANSCRIPT_FTS_TABLE}({TRANSCRIPT_FTS_TABLE}, rowid, tokens) VALUES ('delete', old.id, old.tokens); "
    f"INSERT INTO {TRANSCRIPT_FTS_TABLE}(rowid, tokens) VALUES (new.id, new.tokens); END",
)
TRANSCRIPT_PG_INDEX_DDL = (
    f"CREATE INDEX IF NOT EXISTS {TRANSCRIPT_PG_INDEX} ON transcript_lines USING gin (to_tsvector('simple', tokens))"
)
for _statement in TRANSCRIPT_SQLITE_DDL:
    event.listen(TranscriptLine.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
event.listen(TranscriptLine.__table__, "before_drop",
             DDL(f"DROP TABLE IF EXISTS {TRANSCRIPT_FTS_TABLE}").execute_if(dialect="sqlite"))
event.listen(TranscriptLine.__table__, "after_create", DDL(TRANSCRIPT_PG_INDEX_DDL).execute_if(dialect="postgresql"))
# --- availability, auto-assignment, teams and transfer ------------------------------------------


class Availability(str, enum.Enum):
    ONLINE = "online"  # takes chats: auto-assignment offers handoffs up to the agent's capacity
    AWAY = "away"  # signed in, takes no new chats
    OFFLINE = "offline"


class AgentAvailability(Base):
    """An agent's availability switch and capacity (concurrent chats). No row: the agent has never used
    the switch (desk.availability)."""

    __tablename__ = "agent_availability"

    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    status = Column(String(8), nullable=False, default=Availability.OFFLINE.value)
    capacity = Column(Integer, nullable=False, default=3)
    last_seen_at = Column(DateTime, nullable=True)  # the console's live stream of this agent, last heard
    updated_at = Column(DateTime, nullable=False, default=_now)


class Team(Base):
    """A team handoffs are routed to (refunds, complaints, English, general)."""

    __tablename__ = "teams"

    id = Column(Integer, primary_key=True, autoincrement=True)
    name = Column(String(32), nullable=False, unique=True)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)


class HandoffTransfer(Base):
    """Append-only audit of transfers: who passed a conversation to which team or agent, with the private
    note for the receiver (masked; never shown to the customer)."""

    __tablename__ = "handoff_transfers"

    id = Column(Integer, primary_key=True, autoincrement=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    from_agent = Column(String(64), nullable=False)
    to_team = Column(String(32), nullable=True)
    to_agent = Column(String(64), nullable=True)
    note = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now)
class ProactiveMessage(Base):
    """Every message the desk sent (or holds) first, without the customer asking: kind, why, where, when.

    Written by the proactive-care scheduler (``desk.care``); one row per (customer, kind, ref), so the same
    event (an order's passed ETA, a closed complaint, a birthday) is never announced twice. ``text`` and
    ``reason`` are stored masked (``common.masking``)."""

    __tablename__ = "proactive_messages"
    __table_args__ = (UniqueConstraint("customer_id", "kind", "ref", name="uq_proactive_once"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    customer_id = Column(String(16), nullable=False, index=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(16), nullable=False)  # web | wechat
    kind = Column(String(24), nullable=False)  # order_delay | followup | birthday
    ref = Column(String(64), nullable=False)  # what it is about: order id + ETA, ticket id, year
    reason = Column(Text, nullable=False)
    language = Column(String(2), nullable=False, default="zh")
    text = Column(Text, nullable=False)
    status = Column(String(12), nullable=False, default="waiting")  # waiting | sent | held
    created_at = Column(DateTime, nullable=False, default=_now, index=True)
    delivered_at = Column(DateTime, nullable=True)

"""Lazily built, process-wide collaborators of the actions (nothing is built at import time).

Actions take these as optional constructor arguments, so tests pass fakes or in-memory stores
and the action server (which builds actions with no arguments) falls back to these.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_session_factory
from common.settings import Settings, get_settings
from desk.conversations import ConversationLog
from desk.feedback import FeedbackLog
from desk.handoffs import HandoffQueue
from desk.outbox import CallbackOutbox
from desk.teams import TeamDesk
from desk.tickets import TicketStore
from profiles.offers import OfferRules, OfferStore, load_offer_rules
from profiles.segmentation import load_thresholds
from profiles.store import ProfileStore
from sentiment import SentimentAnalyzer


def settings() -> Settings:
    return get_settings()


@lru_cache(maxsize=1)
def session_factory() -> sessionmaker:
    # the tables exist already: `make run` creates them (desk.schema), production migrates (alembic)
    return make_session_factory(make_engine(settings().database_url))


@lru_cache(maxsize=1)
def profile_store() -> ProfileStore:
    return ProfileStore(session_factory(), thresholds=load_thresholds(settings().segments_file))


@lru_cache(maxsize=1)
def offer_rules() -> OfferRules:
    """The offer rules and privileges (``profiles/offers.yml``): a file read, no database."""
    return load_offer_rules(settings().offers_file)


@lru_cache(maxsize=1)
def offer_store() -> OfferStore:
    return OfferStore(session_factory(), rules=offer_rules())


@lru_cache(maxsize=1)
def ticket_store() -> TicketStore:
    return TicketStore(session_factory(), window_days=settings().repeat_contact_window_days)


@lru_cache(maxsize=1)
def callback_outbox() -> CallbackOutbox:
    return CallbackOutbox(settings().outbox_dir)


@lru_cache(maxsize=1)
def handoff_queue() -> HandoffQueue:
    current = settings()
    return HandoffQueue(session_factory(), max_queued_guests=current.handoff_max_queued_guests,
                        max_queued=current.handoff_max_queued,
                        guest_requests_per_hour=current.handoff_guest_requests_per_hour)


@lru_cache(maxsize=1)
def team_desk() -> TeamDesk:
    return TeamDesk.beside(handoff_queue())


@lru_cache(maxsize=1)
def feedback_log() -> FeedbackLog:
    s = settings()
    return FeedbackLog(
        session_factory(),
        low_threshold=s.low_csat_threshold,
        followup_due=timedelta(hours=s.followup_due_hours),
    )


@lru_cache(maxsize=1)
def conversation_log() -> ConversationLog:
    return ConversationLog(session_factory())


@lru_cache(maxsize=1)
def sentiment_analyzer() -> SentimentAnalyzer:
    """The configured analyzer (the model runs in the Rasa server's NLU pipeline; the batch
    command and the benchmark build the same one here)."""
    from sentiment.factory import build_analyzer

    return build_analyzer(settings())


@lru_cache(maxsize=1)
def fallback_analyzer() -> SentimentAnalyzer:
    """For a message that reached the action server without the NLU component's reading."""
    from sentiment.lexicon import LexiconAnalyzer

    return LexiconAnalyzer()

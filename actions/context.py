"""Reading the conversation from a tracker: channel, language, customer facts, recent messages."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions import names
from common.ids import ConversationId
from desk.transcripts import read_events
from sentiment.tone import Escalation, escalation


def identity_of(tracker: Tracker) -> ConversationId:
    """Who the conversation is with, from its id alone (``common.ids``): metadata and Rasa's input channel
    never move an id to another channel's identities, so a public caller can never claim a customer."""
    return ConversationId.parse(tracker.sender_id)


def channel_of(tracker: Tracker) -> str:
    """The customer's channel: ``web``, ``wechat`` or ``rest`` (see ``common.ids``)."""
    return identity_of(tracker).channel


def external_id_of(tracker: Tracker) -> str:
    """The channel's own id for the customer (``wechat:<openid>`` → ``<openid>``; nothing else is stripped)."""
    return identity_of(tracker).external_id


def latest_text(tracker: Tracker) -> str:
    text = (tracker.latest_message or {}).get("text")
    return text if isinstance(text, str) else ""


def latest_intent(tracker: Tracker) -> str | None:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name")


def language_of(tracker: Tracker) -> str:
    return tracker.get_slot(names.LANGUAGE) or "zh"


def priority_customer(tracker: Tracker) -> bool:
    """VIP, elderly and customers with a declared accessibility need get priority human access (a business
    rule, not personalisation)."""
    return tracker.get_slot(names.TIER) == "vip" or priority_care(tracker)


def priority_care(tracker: Tracker) -> bool:
    """Elderly customers and those with a declared accessibility need: the care priority and plain wording."""
    return bool(tracker.get_slot(names.ELDERLY)) or bool(tracker.get_slot(names.ACCESSIBILITY))


def escalation_of(tracker: Tracker) -> Escalation:
    """How far to go for this customer's mood now: the tone policy's escalation over the signal slots."""
    return escalation(
        emotion=tracker.get_slot(names.EMOTION) or "none",
        trend=tracker.get_slot(names.TREND) or "steady",
        sentiment=tracker.get_slot(names.SENTIMENT) or "neutral",
        history=tracker.get_slot(names.SENTIMENT_HISTORY) or [],
        priority_customer=priority_customer(tracker),
    )


def last_messages(tracker: Tracker, limit: int = 12) -> list[dict[str, Any]]:
    """The last customer, bot and agent lines, masked, oldest first — the transcript tail for the agent, read
    as the console reads transcripts (``desk.transcripts.read_events``)."""
    return [{"from": line.sender, "text": line.text[:1000], "timestamp": line.timestamp}
            for line in read_events(tracker.events)[-limit:]]


def recent_intents(tracker: Tracker, limit: int = 5) -> list[str]:
    intents: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name:
                intents.append(name)
            if len(intents) >= limit:
                break
    return list(reversed(intents))


def session_started_at(tracker: Tracker) -> float:
    """Timestamp of the current session's start (0 when none is recorded)."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return float(event.get("timestamp") or 0)
    return 0.0

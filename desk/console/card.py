"""The warm-handoff card: what the agent reads first, built from the handoff's package (already masked)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from desk.console.charts import sentiment_svg
from desk.handoffs import CANCELLED_BY_CUSTOMER, CUSTOMER_NOTES
from desk.schemas import HandoffView


@dataclass(frozen=True)
class Card:
    handoff: HandoffView
    waiting_s: int
    profile: dict[str, Any]
    sentiment_history: tuple[float, ...]
    trend: str | None
    emotion: str | None
    recent_tickets: tuple[dict[str, Any], ...]
    repeat_contacts: int
    order_id: str | None
    last_messages: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    # what the customer wrote while queued (issue 10 item 3), masked, in their own words
    customer_notes: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    refund_withdrawn: bool = False

    @property
    def chart_svg(self) -> str:
        return sentiment_svg(self.sentiment_history, label="sentiment")


def _floats(values: Any) -> tuple[float, ...]:
    out: list[float] = []
    for value in values or []:
        try:
            out.append(float(value))
        except (TypeError, ValueError):
            continue
    return tuple(out)


def build_card(handoff: HandoffView, *, now: datetime) -> Card:
    package = handoff.package or {}
    profile = dict(package.get("profile") or {})
    sentiment = package.get("sentiment") or {}
    facts = package.get("summary_facts") or {}
    return Card(
        handoff=handoff,
        waiting_s=max(0, int((now - handoff.created_at).total_seconds())),
        profile={
            "name": profile.get("name"),
            "tier": profile.get("tier"),
            "segment": profile.get("segment"),
            "lifecycle": profile.get("lifecycle"),
            "elderly": bool(profile.get("elderly")),
            "accessibility": profile.get("accessibility"),
            "phone_masked": profile.get("phone_masked"),
        },
        sentiment_history=_floats(sentiment.get("history")),
        trend=sentiment.get("trend"),
        emotion=sentiment.get("emotion"),
        recent_tickets=tuple(package.get("recent_tickets") or ()),
        repeat_contacts=int(facts.get("repeat_contacts") or 0),
        order_id=facts.get("order_id"),
        last_messages=tuple(package.get("last_messages") or ()),
        customer_notes=customer_notes(handoff),
        refund_withdrawn=bool((package.get(CANCELLED_BY_CUSTOMER) or {}).get("refund_withdrawn")),
    )


def customer_notes(handoff: HandoffView) -> tuple[dict[str, Any], ...]:
    """The lines the customer added while queued: ``{"text", "at"}`` each, oldest first."""
    notes = (handoff.package or {}).get(CUSTOMER_NOTES) or ()
    return tuple(
        {"text": str(n.get("text") or ""), "at": str(n.get("at") or "").replace("T", " ")[:16]}
        for n in notes if isinstance(n, dict)
    )


def queue_row(handoff: HandoffView, *, now: datetime, reason_label: str, channel_label: str | None = None) -> dict[str, Any]:
    """One line of the live queue (JSON; the page puts every value in with textContent)."""
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "channel": handoff.channel,
        "channel_label": channel_label or handoff.channel,
        "language": handoff.language,
        "reason": handoff.reason,
        "reason_label": reason_label,
        "priority": handoff.priority,
        "status": handoff.status,
        "agent_id": handoff.agent_id,
        "summary": handoff.summary,
        "waiting_s": max(0, int((now - handoff.created_at).total_seconds())),
        "url": f"/handoffs/{handoff.id}",
        "team": handoff.team,
    }

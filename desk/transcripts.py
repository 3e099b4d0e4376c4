"""Transcript lines for display, read from a Rasa tracker's events (the one complete record).

``read_events`` is pure: customer lines (``user``, less the second half of a two-part message that the
bot serves as a turn of its own), bot lines and agent lines (``bot`` events whose metadata says
``sent_by: agent``, appended by the console), with personal data masked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from common.masking import mask_text

AGENT_SENT = "agent"
# metadata of a ``user`` event that re-reads the second half of the customer's previous message (a two-part
# message, ``actions.repair.ActionSecondRequest``): the customer wrote it once, so transcripts show it once
SECOND_HALF = "second_half_of_previous"
TEXT_MAX = 4000


@dataclass(frozen=True)
class Message:
    sender: str  # customer | bot | agent
    text: str
    timestamp: float
    agent_id: str | None = None  # the agent's sign-in name: inside the desk only
    agent_name: str | None = None  # the name customers may see (desk.agents.AgentView.public_name)

    def as_dict(self) -> dict[str, Any]:
        """For the console (agents and supervisors): who wrote an agent line, by sign-in name."""
        return {"from": self.sender, "text": self.text, "timestamp": self.timestamp, "agent": self.agent_id}

    def for_customer(self) -> dict[str, Any]:
        """For the customer's own view (widget history): the agent's display name only (when there is one
        customers may see), never the sign-in name."""
        line: dict[str, Any] = {"from": self.sender, "text": self.text, "timestamp": self.timestamp}
        if self.agent_name:
            line["agent"] = self.agent_name
        return line


def agent_event(
    text: str, *, agent_id: str, agent_name: str | None = None, timestamp: float | None = None
) -> dict[str, Any]:
    """The tracker event for an agent's line: a ``bot`` event marked as agent-sent."""
    event: dict[str, Any] = {
        "event": "bot",
        "text": text,
        "data": {},
        "metadata": {"sent_by": AGENT_SENT, "agent_id": agent_id},
    }
    if agent_name:
        event["metadata"]["agent_name"] = agent_name
    if timestamp is not None:
        event["timestamp"] = timestamp
    return event


def read_events(events: Iterable[dict[str, Any]], *, after: float | None = None) -> list[Message]:
    lines: list[Message] = []
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        if kind not in ("user", "bot") or not text:
            continue
        timestamp = float(event.get("timestamp") or 0.0)
        if after is not None and timestamp <= after:
            continue
        metadata = event.get("metadata") or {}
        agent_name = None
        if kind == "user":
            if metadata.get(SECOND_HALF):
                continue  # the customer wrote it once, in the message before
            sender, agent_id = "customer", None
        elif metadata.get("sent_by") == AGENT_SENT:
            sender, agent_id = "agent", str(metadata.get("agent_id") or "") or None
            agent_name = str(metadata.get("agent_name") or "") or None
        else:
            sender, agent_id = "bot", None
        lines.append(Message(sender=sender, text=mask_text(str(text))[:TEXT_MAX], timestamp=timestamp,
                             agent_id=agent_id, agent_name=agent_name))
    return lines

"""bot/queue_turns.py: which lines of a paused conversation run action_queue_turn."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ConversationPaused, ConversationResumed, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.queue_turns import is_queue_turn

DOMAIN = Domain.from_yaml("""
version: "3.1"
slots:
  handoff_id: {type: float, influence_conversation: false, mappings: [{type: custom}]}
""")


def _tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("c1", list(events), slots=DOMAIN.slots)


def _line(text: str, intent: str = "queue_wait") -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 1.0})


def test_a_customer_line_while_handed_over_is_a_queue_turn():
    assert is_queue_turn(_tracker(SlotSet("handoff_id", 3.0), ConversationPaused(), _line("还要等多久？")))


@pytest.mark.parametrize("events", [
    [SlotSet("handoff_id", 3.0), _line("还要等多久？")],  # not paused: the policies decide
    [ConversationPaused(), _line("hello", "greet")],  # paused without a handoff (an operator's pause)
    [SlotSet("handoff_id", 3.0), ConversationPaused(), ConversationResumed(), _line("hi", "greet")],
    [SlotSet("handoff_id", 3.0), ConversationPaused(), _line("/EXTERNAL_handoff_timed_out", "EXTERNAL_handoff_timed_out")],
    [SlotSet("handoff_id", 3.0), ConversationPaused(), _line("/restart", "restart")],
    [SlotSet("handoff_id", 3.0), ConversationPaused(), _line("   ", "nlu_fallback")],
], ids=["not paused", "no handoff", "resumed", "external intent", "restart", "blank"])
def test_other_lines_keep_rasas_behaviour(events):
    assert not is_queue_turn(_tracker(*events))

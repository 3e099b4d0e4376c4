"""Transcript lines from tracker events (``desk.transcripts.read_events``): pure logic."""

from __future__ import annotations

from desk.transcripts import SECOND_HALF, agent_event, read_events


def test_a_two_part_message_is_shown_once() -> None:
    """The bot serves the second half of "check my order and then let me talk to a human" as a turn of its own
    (``actions.repair.ActionSecondRequest``); the customer wrote it once, so it is shown once."""
    events = [
        {"event": "user", "text": "check my order E20261120001 and then let me talk to a human", "timestamp": 1.0},
        {"event": "bot", "text": "Your order is on its way.", "timestamp": 2.0},
        {"event": "bot", "text": "Now your other request.", "timestamp": 3.0},
        {"event": "user", "text": "let me talk to a human", "timestamp": 4.0, "metadata": {SECOND_HALF: True}},
        {"event": "bot", "text": "Connecting you with a colleague.", "timestamp": 5.0},
        agent_event("Hello, I am here.", agent_id="agent1", timestamp=6.0),
        {"event": "user", "text": "let me talk to a human", "timestamp": 7.0},  # said again: shown again
    ]
    lines = read_events(events)
    assert [(line.sender, line.text) for line in lines] == [
        ("customer", "check my order E20261120001 and then let me talk to a human"),
        ("bot", "Your order is on its way."),
        ("bot", "Now your other request."),
        ("bot", "Connecting you with a colleague."),
        ("agent", "Hello, I am here."),
        ("customer", "let me talk to a human"),
    ]


def test_the_handoff_card_tail_is_the_same_transcript(tracker_factory) -> None:  # type: ignore[no-untyped-def]
    """The transcript tail copied into a handoff package (``actions.context.last_messages``) reads the events the
    way the console does: the second half of a two-part message is not repeated."""
    from actions.context import last_messages

    events = [
        {"event": "user", "text": "查一下订单然后转人工", "timestamp": 1.0},
        {"event": "bot", "text": "订单在路上。", "timestamp": 2.0},
        {"event": "user", "text": "转人工", "timestamp": 3.0, "metadata": {SECOND_HALF: True}},
    ]
    tail = last_messages(tracker_factory(text="谢谢", events=events))
    assert [(m["from"], m["text"]) for m in tail] == [
        ("customer", "查一下订单然后转人工"), ("bot", "订单在路上。"), ("customer", "谢谢")]

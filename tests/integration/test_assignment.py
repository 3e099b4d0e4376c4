"""Availability and auto-assignment against the real Rasa server, action server and console (HTTP):

* two agents online with different capacity (1 and 2): customers who ask for a person are handed to
  them by the console at once, never over capacity, the refund to the refund team's member; the next
  one waits in the queue;
* nobody online (the desk uses the availability switch, everyone away): the customer is told at once,
  in their language, that a callback ticket is saved; the ticket is in the tickets inbox with its team,
  and the conversation stays with the bot.

The availability rows are removed at the end: the other integration tests share this database and
expect a desk that does not use the switch (handoffs wait in the queue).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, select

from desk.models import AgentAvailability, Handoff, Ticket
from tests.integration.conftest import Assistant
from tests.integration.test_conversations import as_customer, handoffs_of, new_sender
from tests.integration.test_queue_live import AgentClient
from tests.utils.browser import ensure_agent, running_console, wait_for

ANN, BOB, BOSS = ("assign-ann", "ann-pass-2026"), ("assign-bob", "bob-pass-2026"), ("assign-boss", "boss-pass-2026")


@pytest.fixture(scope="module")
def console(assistant: Assistant) -> Iterator[str]:
    ensure_agent(assistant, *ANN, "分配测试甲")
    ensure_agent(assistant, *BOB, "分配测试乙")
    ensure_agent(assistant, *BOSS, "分配主管", role="supervisor")
    try:
        with running_console(assistant) as url:
            yield url
    finally:
        with assistant.session_factory.begin() as session:
            session.execute(delete(AgentAvailability))


@contextmanager
def present(*clients: AgentClient) -> Iterator[None]:
    """The agents' consoles are open: each holds the queue's live stream, as the console's pages do (an
    agent whose console goes quiet is taken offline after a minute)."""
    stop = threading.Event()

    def listen(client: AgentClient) -> None:
        with client.http.stream("GET", "/api/queue/stream", timeout=None) as stream:
            for _ in stream.iter_lines():
                if stop.is_set():
                    return

    threads = [threading.Thread(target=listen, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()


def _set(client: AgentClient, status: str) -> None:
    response = client.http.post("/api/me/availability", json={"status": status})
    assert response.status_code == 200, response.text


def test_two_agents_of_different_capacity_are_assigned_at_once_within_capacity(
    assistant: Assistant, console: str
) -> None:
    ann, bob, boss = AgentClient(console, *ANN), AgentClient(console, *BOB), AgentClient(console, *BOSS)
    assert boss.http.post(f"/supervisor/api/agents/{ANN[0]}/capacity", json={"capacity": 1}).status_code == 200
    assert boss.http.post(f"/supervisor/api/agents/{BOB[0]}/capacity", json={"capacity": 2}).status_code == 200
    assert boss.http.post("/supervisor/api/teams/refunds/members", json={"members": [BOB[0]]}).status_code == 200
    _set(ann, "online")
    _set(bob, "online")
    _set(boss, "away")
    with present(ann, bob):
        _assigned_within_capacity(assistant, ann, bob)


def _assigned_within_capacity(assistant: Assistant, ann: AgentClient, bob: AgentClient) -> None:
    refund = as_customer(assistant, "demo-regular-zh")
    assert " ".join(assistant.texts(refund, "我要退款，东西不想要了"))
    others = [new_sender("assign") for _ in range(3)]
    for sender in others:
        assert " ".join(assistant.texts(sender, "转人工"))

    def held() -> dict[str, list[int]]:
        return {name: [row["id"] for row in client.get("/api/queue")["mine"]] for name, client in
                (("ann", ann), ("bob", bob))}

    assert wait_for(lambda: sum(len(v) for v in held().values()) == 3, timeout=10), held()
    mine = held()
    assert len(mine["ann"]) == 1 and len(mine["bob"]) == 2  # never over capacity
    [refund_handoff] = handoffs_of(assistant, refund)
    assert refund_handoff.team == "refunds" and refund_handoff.id in mine["bob"]  # the refund specialist
    waiting = [h for s in others for h in handoffs_of(assistant, s) if h.status == "queued"]
    assert len(waiting) == 1  # the fourth waits in the queue; a manual claim is still possible
    assert [row["id"] for row in ann.get("/api/queue")["queued"]] == [waiting[0].id]
    # a chat ends: the one waiting goes to the agent with room at once
    ann_handoff = mine["ann"][0]
    assert ann.http.post(f"/api/handoffs/{ann_handoff}/back-to-bot").status_code == 200
    assert wait_for(lambda: held()["ann"] == [waiting[0].id], timeout=10), held()
    for client, ids in zip((ann, bob), held().values()):
        for handoff_id in ids:  # the bot takes the conversations back
            assert client.http.post(f"/api/handoffs/{handoff_id}/back-to-bot").status_code == 200


@pytest.mark.parametrize(("language", "text", "told"), [
    ("zh", "转人工", r"暂时不在线.*回电工单（编号 (\d+)）"),
    ("en", "I want to talk to a human agent", r"not online at the moment.*callback ticket for you \(number (\d+)\)"),
])
def test_nobody_online_tells_the_customer_at_once_and_opens_a_callback_ticket(
    assistant: Assistant, console: str, language: str, text: str, told: str
) -> None:
    clients = [AgentClient(console, *who) for who in (ANN, BOB, BOSS)]
    for client in clients:
        _set(client, "away")
    sender = new_sender(f"nobody-{language}")
    replies = " ".join(assistant.texts(sender, text))
    match = re.search(told, replies)
    assert match, replies
    ticket_id = int(match.group(1))
    [handoff] = handoffs_of(assistant, sender)
    assert handoff.status == "timed_out" and "nobody_online" in handoff.package
    with assistant.session_factory() as session:
        ticket = session.get(Ticket, ticket_id)
        assert (ticket.conversation_id, ticket.status, ticket.team) == (sender, "open", "general")
        assert session.scalars(select(Handoff).where(Handoff.conversation_id == sender,
                                                     Handoff.status == "queued")).first() is None
    inbox = clients[2].get("/api/tickets")
    assert ticket_id in [t["id"] for t in inbox["tickets"]]
    assert not assistant.tracker(sender).get("paused")  # the bot stays with the customer
    assert " ".join(assistant.texts(sender, "你好" if language == "zh" else "hello"))

"""Availability, teams, routing, transfer and auto-assignment over the real (seeded SQLite) database, and the
bot's handoff when nobody is online."""

from __future__ import annotations

import pytest
from rasa_sdk.events import ConversationPaused
from sqlalchemy import select

from actions import names
from actions.handoff import ActionRequestHandoff
from desk.agents import AgentStore
from desk.errors import InvalidTransition
from desk.handoffs import NOBODY_ONLINE, HandoffQueue
from desk.models import Agent, AgentRole, Handoff, HandoffStatus, HandoffTransfer, Ticket
from desk.teams import ENGLISH, GENERAL, REFUNDS, TeamDesk, TransferRefused, route_team
from tests.conftest import MovableClock
from tests.utils.builders import message, responses, slot_events


@pytest.fixture
def desk(seeded, movable_clock: MovableClock):
    with seeded.begin() as session:
        for name in ("ann", "bob", "cat"):
            session.add(Agent(username=name, display_name=name.title(), role=AgentRole.AGENT.value,
                              password_hash="unused", active=True, created_at=movable_clock()))
    queue = HandoffQueue(seeded, clock=movable_clock)
    agents = AgentStore(seeded, clock=movable_clock)
    team_desk = TeamDesk(seeded, queue, agents, clock=movable_clock)
    team_desk.ensure_teams()
    return team_desk, queue, agents


def _id(session_factory, username: str) -> int:
    with session_factory.begin() as session:
        return session.scalars(select(Agent.id).where(Agent.username == username)).one()


def _enqueue(queue: HandoffQueue, conversation: str, *, priority: int = 5, team: str | None = None,
             reason: str = "user_request", language: str = "zh") -> int:
    return queue.enqueue(conversation_id=conversation, customer_id=None, channel="rest", language=language,
                         reason=reason, priority=priority, summary="s", package={}, team=team).id


def test_seeded_teams_and_members(desk, seeded) -> None:
    team_desk, _, _ = desk
    team_desk.ensure_teams()  # twice: idempotent
    assert team_desk.team_names() == ["refunds", "complaints", "english", "general"]
    team_desk.set_members(REFUNDS, ["bob", "ann"])
    assert {t.name: t.members for t in team_desk.teams()}[REFUNDS] == ("ann", "bob")
    assert team_desk.teams_of() == {"ann": frozenset({REFUNDS}), "bob": frozenset({REFUNDS})}
    with pytest.raises(TransferRefused):
        team_desk.set_members("nobody", ["ann"])
    with pytest.raises(TransferRefused):
        team_desk.set_members(REFUNDS, ["ghost"])


def test_availability_switch_is_persisted_sign_out_and_staleness_take_agents_offline(desk, seeded,
                                                                                       movable_clock) -> None:
    _, _, agents = desk
    ann = _id(seeded, "ann")
    assert agents.anyone_available() is None  # nobody has used the switch yet
    assert agents.availability(ann).status == "offline"
    agents.set_availability(ann, "online")
    assert agents.availability(ann).status == "online"
    assert agents.anyone_available() is True
    agents.set_availability(ann, "away")
    assert agents.anyone_available() is False
    agents.set_availability(ann, "online")
    agents.go_offline(ann)
    assert agents.availability(ann).status == "offline"
    agents.set_availability(ann, "online")
    movable_clock.advance(seconds=45)
    agents.seen(ann)  # the console's stream is open
    movable_clock.advance(seconds=45)
    assert agents.expire_stale() == []
    assert agents.anyone_available() is True
    movable_clock.advance(seconds=61)  # the console went quiet
    assert agents.anyone_available() is False
    assert agents.expire_stale() == ["ann"]
    assert agents.availability(ann).status == "offline"


def test_capacity_is_set_per_agent_within_bounds(desk, seeded) -> None:
    _, _, agents = desk
    assert agents.set_capacity("bob", 5).capacity == 5
    assert agents.availability(_id(seeded, "bob")).capacity == 5
    with pytest.raises(ValueError):
        agents.set_capacity("bob", 99)
    with pytest.raises(LookupError):
        agents.set_capacity("ghost", 2)


def test_routing_by_reason_and_language(desk, seeded) -> None:
    team_desk, _, agents = desk
    assert route_team("refund", "zh", english_online=False) == REFUNDS
    assert route_team("negative_sentiment", "zh", english_online=False) == "complaints"
    assert route_team("user_request", "zh", english_online=True) == GENERAL
    assert route_team("user_request", "en", english_online=True) == ENGLISH
    assert route_team("user_request", "en", english_online=False) == GENERAL
    team_desk.set_members(ENGLISH, ["cat"])
    assert team_desk.route("user_request", "en") == GENERAL  # the English team has nobody online
    agents.set_availability(_id(seeded, "cat"), "online")
    assert team_desk.route("user_request", "en") == ENGLISH
    assert team_desk.route("refund", "zh") == REFUNDS


def test_auto_assignment_respects_capacity_and_prefers_the_team(desk, seeded) -> None:
    team_desk, queue, agents = desk
    team_desk.set_members(REFUNDS, ["bob"])
    agents.set_capacity("ann", 1)
    agents.set_capacity("bob", 2)
    for name in ("ann", "bob"):
        agents.set_availability(_id(seeded, name), "online")
    refund = _enqueue(queue, "web-r1", priority=4, team=REFUNDS)
    others = [_enqueue(queue, f"web-o{i}") for i in range(3)]
    offers = team_desk.assign_waiting()
    assert {o.handoff_id: o.agent for o in offers}[refund] == "bob"
    assert len(offers) == 3  # ann 1 + bob 2: one stays queued
    held = {h.id: h.agent_id for h in queue.open_handoffs() if h.status == "assigned"}
    assert sorted(held.values()) == ["ann", "bob", "bob"]
    assert [h.id for h in queue.queued()] == [others[-1]]
    assert team_desk.assign_waiting() == []  # everyone full
    queue.resolve(refund)
    assert [o.agent for o in team_desk.assign_waiting()] == ["bob"]


def test_transfer_to_a_team_requeues_for_its_members_not_back_to_the_sender(desk, seeded) -> None:
    team_desk, queue, agents = desk
    team_desk.set_members(REFUNDS, ["bob"])
    for name in ("ann", "bob"):
        agents.set_availability(_id(seeded, name), "online")
    handoff_id = _enqueue(queue, "web-t1")
    queue.claim(handoff_id, agent_id="ann")
    with pytest.raises(TransferRefused) as refused:
        team_desk.transfer(handoff_id, by="bob", to_team=REFUNDS, note="x")
    assert refused.value.why == "not_holder"
    view, record = team_desk.transfer(handoff_id, by="ann", to_team=REFUNDS, note="客户手机 13812345678，要退款")
    assert (view.status, view.agent_id, view.team) == ("queued", None, REFUNDS)
    assert record.note is not None and "13812345678" not in record.note  # masked
    assert team_desk.assign_waiting()[0].agent == "bob"
    assert [(t.from_agent, t.to_team) for t in team_desk.transfers(handoff_id)] == [("ann", REFUNDS)]


def test_transfer_to_a_named_agent_hands_it_over_at_once(desk, seeded) -> None:
    team_desk, queue, _ = desk
    handoff_id = _enqueue(queue, "web-t2")
    queue.claim(handoff_id, agent_id="ann")
    with pytest.raises(TransferRefused):
        team_desk.transfer(handoff_id, by="ann", to_agent="ann", note="")
    with pytest.raises(TransferRefused):
        team_desk.transfer(handoff_id, by="ann", to_agent="ghost", note="")
    with pytest.raises(TransferRefused):
        team_desk.transfer(handoff_id, by="ann", note="")
    view, record = team_desk.transfer(handoff_id, by="ann", to_agent="cat", note="VIP, handle with care")
    assert (view.status, view.agent_id) == ("assigned", "cat")
    assert record.note == "VIP, handle with care"
    with seeded.begin() as session:
        assert session.scalars(select(HandoffTransfer.to_agent)).all() == ["cat"]
    queue.resolve(handoff_id)
    with pytest.raises(InvalidTransition):
        team_desk.transfer(handoff_id, by="cat", to_agent="ann", note="")


REGULAR = {names.CUSTOMER_ID: "C000005", names.TIER: "regular", names.SEGMENT: "potential", names.IS_GUEST: False,
           names.LANGUAGE: "zh", names.ELDERLY: False}  # fmt: skip


async def test_nobody_online_tells_the_customer_at_once_and_opens_a_callback_ticket(
    desk, seeded, tracker_factory, dispatcher, domain, store, tickets
) -> None:
    _team_desk, queue, agents = desk
    agents.set_availability(_id(seeded, "ann"), "away")  # the desk uses the switch; nobody online
    tracker = tracker_factory(text="转人工", intent="request_human", slots=REGULAR, sender_id="web-nobody")
    events = await ActionRequestHandoff(queue=queue, profiles=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_HANDOFF_NOBODY_ONLINE]
    assert ConversationPaused() not in events
    assert names.HANDOFF_ID not in slot_events(events)
    ticket_id = message(dispatcher, names.UTTER_HANDOFF_NOBODY_ONLINE)["ticket_id"]
    with seeded.begin() as session:
        ticket = session.get(Ticket, ticket_id)
        assert (ticket.conversation_id, ticket.status, ticket.team) == ("web-nobody", "open", GENERAL)
        assert ticket.subject.startswith("callback: ")
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == "web-nobody")).one()
        assert handoff.status == HandoffStatus.TIMED_OUT.value and NOBODY_ONLINE in handoff.package
    assert queue.queued() == []


async def test_someone_online_queues_with_the_routed_team(
    desk, seeded, tracker_factory, dispatcher, domain, store, tickets, movable_clock
) -> None:
    _team_desk, queue, agents = desk
    agents.set_availability(_id(seeded, "ann"), "online")
    tracker = tracker_factory(text="转人工", intent="request_human", slots=REGULAR, sender_id="web-someone")
    events = await ActionRequestHandoff(queue=queue, profiles=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_HANDOFF_QUEUED]
    assert events[-1] == ConversationPaused()
    assert [(h.conversation_id, h.team) for h in queue.queued()] == [("web-someone", GENERAL)]
    movable_clock.advance(seconds=61)  # ann's console went quiet since: nobody online now
    dispatcher.messages.clear()
    tracker = tracker_factory(text="转人工", intent="request_human", slots=REGULAR, sender_id="web-later")
    await ActionRequestHandoff(queue=queue, profiles=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_HANDOFF_NOBODY_ONLINE]

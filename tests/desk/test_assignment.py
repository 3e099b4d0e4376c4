"""The pure assignment function: agents × capacity × load × handoffs → offers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from desk.assignment import AgentSlot, Offer, Waiting, assign, queue_order

T0 = datetime(2026, 12, 6, 12, 0, 0)


def agent(name: str, *, status: str = "online", capacity: int = 3, load: int = 0, teams: tuple[str, ...] = (),
          last: datetime | None = None) -> AgentSlot:
    return AgentSlot(username=name, status=status, capacity=capacity, load=load, teams=frozenset(teams),
                     last_assigned_at=last)


def waiting(handoff_id: int, *, priority: int = 5, age_s: int = 0, team: str | None = None,
            excluded: tuple[str, ...] = ()) -> Waiting:
    return Waiting(id=handoff_id, priority=priority, created_at=T0 - timedelta(seconds=age_s), team=team,
                   excluded=frozenset(excluded))


def test_never_over_capacity_and_the_rest_stays_queued() -> None:
    agents = [agent("ann", capacity=1), agent("bob", capacity=3)]
    offers = assign(agents, [waiting(i, age_s=100 - i) for i in range(1, 7)])
    per_agent = Counter(o.agent for o in offers)
    assert per_agent == {"ann": 1, "bob": 3}
    assert [o.handoff_id for o in offers] == [1, 2, 3, 4]  # the four who waited longest; 5 and 6 stay queued


def test_load_already_held_counts_against_capacity() -> None:
    offers = assign([agent("ann", capacity=2, load=2), agent("bob", capacity=2, load=1)], [waiting(1), waiting(2)])
    assert offers == [Offer(handoff_id=1, agent="bob")]


def test_least_loaded_first_relative_to_capacity() -> None:
    # ann holds 1 of 2 (half), bob 1 of 4 (a quarter): bob is the less loaded
    offers = assign([agent("ann", capacity=2, load=1), agent("bob", capacity=4, load=1)], [waiting(1)])
    assert offers == [Offer(1, "bob")]


def test_spreads_a_burst_over_equal_agents() -> None:
    offers = assign([agent("ann"), agent("bob")], [waiting(i, age_s=10 - i) for i in range(1, 5)])
    assert Counter(o.agent for o in offers) == {"ann": 2, "bob": 2}


def test_priority_before_waiting_time() -> None:
    handoffs = [waiting(1, priority=5, age_s=600), waiting(2, priority=1, age_s=5), waiting(3, priority=3, age_s=60)]
    assert [w.id for w in queue_order(handoffs)] == [2, 3, 1]
    offers = assign([agent("ann", capacity=2)], handoffs)
    assert [o.handoff_id for o in offers] == [2, 3]  # VIP, then upset; the normal one waits


def test_only_online_agents_take_chats() -> None:
    agents = [agent("ann", status="away"), agent("bob", status="offline"), agent("cat", capacity=0)]
    assert assign(agents, [waiting(1)]) == []
    assert assign(agents + [agent("dan")], [waiting(1)]) == [Offer(1, "dan")]


def test_team_members_are_preferred_then_anyone_with_room() -> None:
    agents = [agent("ann"), agent("bob", teams=("refunds",), load=2)]
    # bob is more loaded, but he is the refund specialist
    assert assign(agents, [waiting(1, team="refunds")]) == [Offer(1, "bob")]
    # bob full: the refund goes to anyone with room rather than wait
    full = [agent("ann"), agent("bob", teams=("refunds",), load=3)]
    assert assign(full, [waiting(1, team="refunds")]) == [Offer(1, "ann")]


def test_an_agent_who_passed_a_conversation_on_is_not_offered_it_again() -> None:
    offers = assign([agent("ann"), agent("bob", load=2)], [waiting(1, team="general", excluded=("ann",))])
    assert offers == [Offer(1, "bob")]
    assert assign([agent("ann")], [waiting(1, excluded=("ann",))]) == []


def test_ties_go_to_the_agent_waiting_longest_since_the_last_assignment() -> None:
    agents = [agent("ann", last=T0 - timedelta(minutes=1)), agent("bob", last=T0 - timedelta(minutes=30))]
    assert assign(agents, [waiting(1)]) == [Offer(1, "bob")]
    never = [agent("zed", last=T0), agent("amy")]
    assert assign(never, [waiting(1)]) == [Offer(1, "amy")]


def test_nothing_to_do() -> None:
    assert assign([], [waiting(1)]) == []
    assert assign([agent("ann")], []) == []

"""The handoff lifecycle: legal moves only, and one winner when two agents claim at once."""

from __future__ import annotations

import threading

import pytest

from common.db import make_engine, make_session_factory
from desk.errors import HandoffNotFound, InvalidTransition
from desk.handoffs import HandoffQueue, can_transition
from desk.models import Conversation, HandoffStatus
from desk.schema import create_all


def _enqueue(queue: HandoffQueue, conversation: str = "c-1") -> int:
    return queue.enqueue(
        conversation_id=conversation, customer_id=None, channel="rest", language="zh", reason="user_request",
        priority=5, summary="s", package={},
    ).id  # fmt: skip


@pytest.mark.parametrize(
    ("current", "wanted", "allowed"),
    [("queued", "assigned", True), ("queued", "resolved", False), ("assigned", "resolved", True),
     ("assigned", "queued", True), ("queued", "timed_out", True), ("assigned", "timed_out", False),
     ("resolved", "assigned", False), ("abandoned", "queued", False)],
)  # fmt: skip
def test_transition_table(current: str, wanted: str, allowed: bool) -> None:
    assert can_transition(current, wanted) is allowed


def test_claim_then_resolve_updates_the_conversation(queue: HandoffQueue, seeded) -> None:  # type: ignore[no-untyped-def]
    handoff_id = _enqueue(queue)
    claimed = queue.claim(handoff_id, agent_id="agent-1")
    assert (claimed.status, claimed.agent_id) == ("assigned", "agent-1")
    with seeded() as session:
        assert session.get(Conversation, "c-1").status == "with_agent"
    assert queue.resolve(handoff_id).status == HandoffStatus.RESOLVED.value
    with seeded() as session:
        assert session.get(Conversation, "c-1").status == "resolved"
    assert queue.open_for("c-1") is None


def test_illegal_moves_are_refused(queue: HandoffQueue) -> None:
    handoff_id = _enqueue(queue)
    with pytest.raises(InvalidTransition):
        queue.resolve(handoff_id)  # nobody has claimed it
    with pytest.raises(HandoffNotFound):
        queue.claim(999_999, agent_id="a")


@pytest.mark.parametrize("round_", range(5))
def test_two_agents_claiming_at_once_one_wins(tmp_path, round_: int) -> None:  # type: ignore[no-untyped-def]
    # a database file, so each thread has its own connection and the database decides the race
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    create_all(engine)
    queue = HandoffQueue(make_session_factory(engine))
    handoff_id = _enqueue(queue)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def claim(agent: str) -> None:
        barrier.wait()
        try:
            queue.claim(handoff_id, agent_id=agent)
            results.append(agent)
        except InvalidTransition:
            results.append("refused")

    threads = [threading.Thread(target=claim, args=(f"agent-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results.count("refused") == 1, results
    winner = next(r for r in results if r != "refused")
    assert queue.for_conversation("c-1")[0].agent_id == winner
    engine.dispose()


def test_a_closed_handoff_can_wait_for_the_bot_to_resume(queue: HandoffQueue) -> None:
    handoff_id = _enqueue(queue, "c-pending")
    queue.mark_resume_pending(handoff_id, "abandoned")
    assert queue.resume_pending() == []  # only closed handoffs wait for a resume
    queue.transition(handoff_id, HandoffStatus.ABANDONED)
    [pending] = queue.resume_pending()
    assert (pending.id, pending.package["resume_pending"]) == (handoff_id, "abandoned")
    queue.clear_resume_pending(handoff_id)
    assert queue.resume_pending() == [] and "resume_pending" not in queue.get(handoff_id).package
    with pytest.raises(HandoffNotFound):
        queue.mark_resume_pending(999_999, "resolved")

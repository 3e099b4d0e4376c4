"""The queue over HTTP: priority then waiting time, claiming, and one winner of a claim race."""

from __future__ import annotations

import threading
from datetime import timedelta

from common.db import make_engine, make_session_factory
from desk.schema import create_all
from tests.conftest import MovableClock
from tests.desk.console.conftest import Console, enqueue


def test_queue_is_ordered_by_priority_then_waiting_time(console_factory) -> None:  # type: ignore[no-untyped-def]
    clock = MovableClock()
    console = console_factory(clock=clock)
    from desk.handoffs import HandoffQueue

    queue = HandoffQueue(console.session_factory, clock=clock)
    refund_early = enqueue(queue, "web-refund-early", priority=4)
    clock.advance(minutes=1)
    vip = enqueue(queue, "web-vip-000001", priority=1, reason="user_request")
    clock.advance(minutes=1)
    refund_late = enqueue(queue, "web-refund-late", priority=4)
    clock.advance(minutes=2)
    snapshot = console.client("agent1").get("/api/queue").json()
    assert [row["id"] for row in snapshot["queued"]] == [vip, refund_early, refund_late]
    first = snapshot["queued"][1]
    assert first["waiting_s"] == int(timedelta(minutes=4).total_seconds())
    assert first["reason_label"] == "退款/退货" and first["url"] == f"/handoffs/{refund_early}"


def test_claim_moves_a_handoff_to_my_conversations(console: Console) -> None:
    handoff_id = enqueue(console.queue)
    client = console.client("agent1")
    response = client.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": client.csrf})
    assert response.json() == {"id": handoff_id, "status": "assigned", "agent_id": "agent1",
                               "url": f"/handoffs/{handoff_id}"}
    snapshot = client.get("/api/queue").json()
    assert snapshot["queued"] == [] and [row["id"] for row in snapshot["mine"]] == [handoff_id]
    assert console.client("agent2").get("/api/queue").json()["mine"] == []
    again = console.client("agent2")
    assert again.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": again.csrf}).status_code == 409
    assert client.post("/api/handoffs/99999/claim", headers={"X-CSRF-Token": client.csrf}).status_code == 404


def test_two_agents_claiming_over_http_exactly_one_wins(console_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # a database file, so each request thread has its own connection and the database decides
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    create_all(engine)
    console = console_factory(session_factory=make_session_factory(engine))
    clients = [console.client("agent1"), console.client("agent2")]
    for round_ in range(5):
        handoff_id = enqueue(console.queue, f"web-race-{round_:04d}")
        barrier = threading.Barrier(2)
        codes: dict[str, int] = {}

        def claim(client, name: str, handoff_id: int = handoff_id, barrier: threading.Barrier = barrier,
                  codes: dict[str, int] = codes) -> None:  # type: ignore[no-untyped-def]
            barrier.wait()
            codes[name] = client.post(f"/api/handoffs/{handoff_id}/claim",
                                      headers={"X-CSRF-Token": client.csrf}).status_code

        threads = [threading.Thread(target=claim, args=(c, n)) for c, n in zip(clients, ("agent1", "agent2"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes.values()) == [200, 409], codes
        winner = next(name for name, code in codes.items() if code == 200)
        assert console.queue.get(handoff_id).agent_id == winner
    engine.dispose()


def test_queue_page_renders_rows_for_the_script(console: Console) -> None:
    enqueue(console.queue)
    page = console.client("agent1").get("/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'id="initial-queue"' in page.text and '"reason": "refund"' in page.text

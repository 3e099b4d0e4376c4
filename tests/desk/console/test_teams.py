"""Availability, capacity, teams and transfer over HTTP, and the console's auto-assignment round."""

from __future__ import annotations

import asyncio

from tests.conftest import MovableClock
from tests.desk.console.conftest import Console, enqueue


def _post(client, url: str, body: dict) -> object:  # type: ignore[no-untyped-def]
    return client.post(url, json=body, headers={"X-CSRF-Token": client.csrf})


def test_the_availability_switch_is_persisted_and_signing_out_goes_offline(console: Console) -> None:
    client = console.client("agent1")
    assert client.get("/api/me/availability").json() == {"status": "offline", "capacity": 3}
    response = _post(client, "/api/me/availability", {"status": "online"})
    assert response.status_code == 200 and response.json()["label"] == "在线"
    assert console.client("agent1").get("/api/me/availability").json()["status"] == "online"  # another session
    assert _post(client, "/api/me/availability", {"status": "busy"}).status_code == 422
    assert client.post("/api/me/availability", json={"status": "away"}).status_code == 403  # no CSRF token
    client.post("/logout", data={"csrf_token": client.csrf}, follow_redirects=False)
    assert console.client("agent1").get("/api/me/availability").json()["status"] == "offline"


def test_supervisors_set_capacity_and_team_members(console: Console) -> None:
    boss, agent = console.client("boss"), console.client("agent1")
    assert _post(agent, "/supervisor/api/agents/agent1/capacity", {"capacity": 9}).status_code == 403
    assert _post(boss, "/supervisor/api/agents/agent1/capacity", {"capacity": 1}).json()["capacity"] == 1
    assert _post(boss, "/supervisor/api/agents/agent1/capacity", {"capacity": 21}).status_code == 422
    assert _post(boss, "/supervisor/api/agents/ghost/capacity", {"capacity": 2}).status_code == 404
    assert _post(boss, "/supervisor/api/teams/refunds/members", {"members": ["agent2"]}).json() == {
        "name": "refunds", "members": ["agent2"]}
    assert _post(boss, "/supervisor/api/teams/nowhere/members", {"members": []}).status_code == 404
    teams = agent.get("/api/teams").json()
    assert [(t["name"], t["label"], t["members"]) for t in teams["teams"]] == [
        ("refunds", "退款专员组", ["agent2"]), ("complaints", "投诉处理组", []), ("english", "英语服务组", []),
        ("general", "综合服务组", [])]
    assert {a["username"]: a["capacity"] for a in teams["agents"]}["agent1"] == 1


def test_transfer_to_a_colleague_with_a_private_note_the_receiver_sees_and_the_customer_never(
    console: Console,
) -> None:
    handoff_id = enqueue(console.queue, "web-transfer-1")
    ann, bob = console.client("agent1"), console.client("agent2")
    _post(ann, f"/api/handoffs/{handoff_id}/claim", {})
    card = ann.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}).text
    assert 'data-testid="transfer-form"' in card and 'value="agent2"' in card
    assert _post(bob, f"/api/handoffs/{handoff_id}/transfer", {"agent": "agent1", "note": "x"}).status_code == 403
    assert _post(ann, f"/api/handoffs/{handoff_id}/transfer", {"note": "x"}).status_code == 422
    done = _post(ann, f"/api/handoffs/{handoff_id}/transfer", {"agent": "agent2", "note": "客户很着急，请先致歉"})
    assert done.status_code == 200, done.text
    assert (done.json()["agent_id"], done.json()["notice"]) == ("agent2", "已转接给 agent2")
    assert [row["id"] for row in bob.get("/api/queue").json()["mine"]] == [handoff_id]
    assert ann.get(f"/handoffs/{handoff_id}").status_code == 403  # no longer hers
    page = bob.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}).text
    assert "客户很着急，请先致歉" in page and "由 agent1 转来" in page
    trail = bob.get(f"/api/handoffs/{handoff_id}/transfers").json()["transfers"]
    assert [(r["from"], r["to_agent"], r["note"]) for r in trail] == [("agent1", "agent2", "客户很着急，请先致歉")]
    # the customer's side: nothing was appended to the conversation, nothing sent to any channel
    assert console.rasa.appended == [] and console.rasa.sent == []


def test_transfer_to_a_team_puts_it_back_in_the_queue_for_that_team(console: Console) -> None:
    handoff_id = enqueue(console.queue, "web-transfer-2", reason="user_request", priority=5)
    ann = console.client("agent1")
    _post(ann, f"/api/handoffs/{handoff_id}/claim", {})
    done = _post(ann, f"/api/handoffs/{handoff_id}/transfer", {"team": "refunds", "note": "退款问题"})
    assert done.json()["status"] == "queued" and done.json()["team"] == "refunds"
    assert done.json()["notice"] == "已转接给 退款专员组"
    [row] = ann.get("/api/queue").json()["queued"]
    assert (row["id"], row["team"], row["team_label"]) == (handoff_id, "refunds", "退款专员组")
    assert _post(ann, f"/api/handoffs/{handoff_id}/transfer", {"team": "refunds"}).status_code == 409
    assert _post(console.client("agent2"), f"/api/handoffs/{handoff_id}/claim", {}).status_code == 200
    assert _post(console.client("agent2"), f"/api/handoffs/{handoff_id}/transfer",
                 {"team": "nowhere"}).status_code == 422


def test_the_assignment_round_hands_waiting_chats_to_online_agents_within_capacity(console_factory) -> None:  # type: ignore[no-untyped-def]
    clock = MovableClock()
    console = console_factory(clock=clock)
    ann, bob, boss = console.client("agent1"), console.client("agent2"), console.client("boss")
    _post(boss, "/supervisor/api/agents/agent1/capacity", {"capacity": 1})
    _post(boss, "/supervisor/api/agents/agent2/capacity", {"capacity": 2})
    _post(ann, "/api/me/availability", {"status": "online"})
    _post(bob, "/api/me/availability", {"status": "online"})
    ids = [enqueue(console.queue, f"web-auto-{i}", priority=5, reason="user_request") for i in range(4)]
    services = console.app.state.services
    done = asyncio.run(services.assigner.round())
    assert sorted(done["assigned"]) == ids[:3]
    assert len(ann.get("/api/queue").json()["mine"]) == 1
    assert len(bob.get("/api/queue").json()["mine"]) == 2
    assert [row["id"] for row in ann.get("/api/queue").json()["queued"]] == [ids[3]]
    # everyone's console goes quiet: offline, and the one still waiting is told at once (callback ticket)
    clock.advance(seconds=120)
    done = asyncio.run(services.assigner.round())
    assert done == {"assigned": [], "unstaffed": [ids[3]]}
    assert console.queue.get(ids[3]).status == "timed_out"
    assert ann.get("/api/me/availability").json()["status"] == "offline"
    assert ("web-auto-3", "EXTERNAL_handoff_timed_out") in console.rasa.triggered
    tickets = boss.get("/api/tickets").json()
    assert any(t["conversation_id"] == "web-auto-3" for t in tickets["tickets"])


def test_the_agents_page_shows_status_load_capacity_and_teams(console: Console) -> None:
    boss = console.client("boss")
    _post(boss, "/supervisor/api/agents/agent1/capacity", {"capacity": 2})
    _post(console.client("agent1"), "/api/me/availability", {"status": "online"})
    _post(boss, "/supervisor/api/teams/english/members", {"members": ["agent2"]})
    page = boss.get("/supervisor/agents", headers={"Accept": "text/html", "Accept-Language": "en"}).text
    assert 'data-agent="agent1"' in page and 'value="2"' in page and ">Online<" in page
    assert "Refund specialists" in page and 'value="agent2"' in page


def test_a_conversation_put_back_in_the_queue_goes_to_someone_else(console: Console) -> None:
    ann, bob = console.client("agent1"), console.client("agent2")
    _post(ann, "/api/me/availability", {"status": "online"})
    handoff_id = enqueue(console.queue, "web-requeue-1")
    services = console.app.state.services
    assert asyncio.run(services.assigner.round())["assigned"] == [handoff_id]
    assert console.queue.get(handoff_id).agent_id == "agent1"
    assert _post(ann, f"/api/handoffs/{handoff_id}/requeue", {}).status_code == 200
    assert asyncio.run(services.assigner.round())["assigned"] == []  # not back to the agent who put it back
    _post(bob, "/api/me/availability", {"status": "online"})
    assert asyncio.run(services.assigner.round())["assigned"] == [handoff_id]
    assert console.queue.get(handoff_id).agent_id == "agent2"

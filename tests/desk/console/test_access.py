"""Every page and API route refuses a request without the right role (checked over the app's routes)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.routing import APIRoute

from desk.weekly_report import WeeklyReports
from tests.desk.console.conftest import Console, enqueue

# what customers and signed-out agents may reach; everything else needs a signed-in agent
# (/chat/test and the demo shop are development pages: 404 in production; /widget/* are static files)
PUBLIC = {("GET", "/health"), ("GET", "/login"), ("POST", "/login"), ("GET", "/lang/{code}"), ("GET", "/chat/test"),
          ("GET", "/demo/shop"), ("GET", "/widget/{name}")}  # the widget's own files
SUPERVISOR_PREFIX = "/supervisor"


def _routes(console: Console) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in console.app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    )


def _url(path: str, handoff_id: int) -> str:
    return re.sub(r"\{handoff_id\}", str(handoff_id), path).replace("{code}", "en")


def test_the_route_list_is_what_this_test_knows(console: Console) -> None:
    routes = _routes(console)
    assert len(routes) >= 20 and set(PUBLIC) <= set(routes)
    assert any(path.startswith(SUPERVISOR_PREFIX) for _, path in routes)


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_signed_out_requests_are_refused_everywhere(console: Console, accept: str) -> None:
    handoff_id = enqueue(console.queue)
    client = console.client()
    for method, path in _routes(console):
        if (method, path) in PUBLIC:
            continue
        response = client.request(method, _url(path, handoff_id), headers={"Accept": accept}, json={})
        assert response.status_code == 401, (method, path, response.status_code)


def test_agents_are_refused_supervisor_routes(console: Console) -> None:
    agent, boss = console.client("agent1"), console.client("boss")
    supervisor_routes = [(m, p) for m, p in _routes(console) if p.startswith(SUPERVISOR_PREFIX)]
    assert supervisor_routes
    enqueue(console.queue, conversation_id="web-review01")
    week = WeeklyReports(console.session_factory).generate(date(2026, 11, 16)).week_start.isoformat()
    for method, path in supervisor_routes:
        url = path.replace("{conversation_id}", "web-review01").replace("{ticket_id}", "1").replace("{week}", week)
        refused = agent.request(method, url, headers={"X-CSRF-Token": agent.csrf, "Accept": "text/html"})
        assert refused.status_code == 403, (method, path)
        allowed = boss.request(method, url, headers={"X-CSRF-Token": boss.csrf})
        if method == "GET":
            assert allowed.status_code == 200, (method, path, allowed.status_code)
        else:  # no body: refused as incomplete, never as unauthorised
            assert allowed.status_code in (200, 404, 422), (method, path, allowed.status_code)


def test_every_state_change_needs_the_csrf_token(console: Console) -> None:
    handoff_id = enqueue(console.queue)
    client = console.client("boss")
    for method, path in _routes(console):
        if method != "POST" or (method, path) in PUBLIC:
            continue
        response = client.request(method, _url(path, handoff_id), json={"text": "x", "topic": "other", "subject": "s"})
        assert response.status_code == 403, (method, path, response.status_code)


def test_only_the_agent_holding_a_conversation_may_act_on_it(console: Console) -> None:
    handoff_id = enqueue(console.queue)
    holder, other = console.client("agent1"), console.client("agent2")
    assert holder.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": holder.csrf}).status_code == 200
    for action, body in [("messages", {"text": "hi"}), ("resolve", None), ("back-to-bot", None), ("requeue", None),
                         ("tickets", {"topic": "refund", "subject": "s"})]:
        response = other.post(f"/api/handoffs/{handoff_id}/{action}", json=body, headers={"X-CSRF-Token": other.csrf})
        assert response.status_code == 403, action
    # a supervisor may step in
    boss = console.client("boss")
    reply = boss.post(f"/api/handoffs/{handoff_id}/messages", json={"text": "主管为您处理"},
                      headers={"X-CSRF-Token": boss.csrf})
    assert reply.status_code == 200


def test_private_notes_come_from_the_agent_holding_the_handoff_or_a_supervisor(console: Console) -> None:
    holder, other, boss = console.client("agent1"), console.client("agent2"), console.client("boss")

    def note(client, handoff_id: int) -> int:  # type: ignore[no-untyped-def]
        return client.post(f"/api/handoffs/{handoff_id}/notes", json={"text": "已核实"},
                           headers={"X-CSRF-Token": client.csrf}).status_code

    unclaimed = enqueue(console.queue)
    assert (note(holder, unclaimed), note(other, unclaimed)) == (403, 403)
    assert holder.post(f"/api/handoffs/{unclaimed}/claim", headers={"X-CSRF-Token": holder.csrf}).status_code == 200
    assert (note(holder, unclaimed), note(other, unclaimed), note(boss, unclaimed)) == (200, 403, 200)
    # the form is there only for those who may use it; another agent does not open the card or its notes
    # (tests/security/test_console_security.py), a supervisor does
    assert 'id="note"' in holder.get(f"/handoffs/{unclaimed}", headers={"Accept": "text/html"}).text
    assert other.get(f"/handoffs/{unclaimed}", headers={"Accept": "text/html"}).status_code == 403
    assert len(boss.get(f"/api/handoffs/{unclaimed}/notes").json()["notes"]) == 2
    assert holder.post(f"/api/handoffs/{unclaimed}/resolve", headers={"X-CSRF-Token": holder.csrf}).status_code == 200
    # resolved: over for agents, a supervisor may still note it (review)
    assert (note(holder, unclaimed), note(other, unclaimed), note(boss, unclaimed)) == (403, 403, 200)
    assert note(boss, 999_999) == 404

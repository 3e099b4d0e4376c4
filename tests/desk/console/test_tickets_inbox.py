"""The tickets and callbacks inbox over the console's test client: list, filters, claim, notes, resolve, access."""

from __future__ import annotations

import re
from datetime import timedelta

from desk.ticket_status import due_of
from desk.tickets import TicketStore
from tests.desk.console.conftest import Console

HTML = {"Accept": "text/html"}


def _post(client, url, body=None):  # type: ignore[no-untyped-def]
    return client.post(url, json=body or {}, headers={"X-CSRF-Token": client.csrf})


def _open(console: Console, clock, conversation: str, topic: str, customer: str | None = "C000001"):  # type: ignore[no-untyped-def]
    store = TicketStore(console.session_factory, clock=clock)
    return store.record_contact(customer_id=customer, conversation_id=conversation, channel="web", topic=topic,
                                subject=f"{topic}，电话13812341234").ticket


def _ids(client, query: str = "") -> list[int]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/tickets{query}")
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["tickets"]]


def test_the_inbox_lists_tickets_with_masked_customer_labels_and_due_time(console: Console, clock) -> None:
    ticket = _open(console, clock, "web-inbox-1", "complaint")
    boss = console.client("boss")
    rows = {r["id"]: r for r in boss.get("/api/tickets?topic=complaint").json()["tickets"]}
    row = rows[ticket.id]
    assert row["owner"] is None and row["status"] == "open" and row["overdue"] is False
    assert row["due_at"] == (clock() + timedelta(hours=24)).isoformat()
    assert "13812341234" not in row["subject"] and "*" in row["customer"]
    zh = boss.get("/tickets?topic=complaint", headers={**HTML, "Accept-Language": "zh"}).text
    en = console.client("boss").get("/tickets?topic=complaint", headers={**HTML, "Accept-Language": "en"})
    assert "投诉" in zh and f'data-ticket="{ticket.id}"' in zh
    assert "Complaint" in en.text and 'href="/tickets"' in en.text


def test_claim_note_and_resolve_through_the_api_with_the_audit_trail(console: Console, clock) -> None:
    ticket = _open(console, clock, "web-inbox-2", "refund")
    agent1, agent2, boss = console.client("agent1"), console.client("agent2"), console.client("boss")
    assert _post(agent1, f"/api/tickets/{ticket.id}/notes", {"text": "x"}).status_code == 403  # claim first
    claimed = _post(agent1, f"/api/tickets/{ticket.id}/claim")
    assert claimed.status_code == 200 and claimed.json()["owner"] == "agent1"
    assert ticket.id not in _ids(agent2)  # a colleague's ticket is not on another agent's list
    assert _post(agent2, f"/api/tickets/{ticket.id}/claim").status_code == 404
    assert ticket.id in _ids(agent1, "?scope=mine")
    note = _post(agent1, f"/api/tickets/{ticket.id}/notes", {"text": "已联系仓库"})
    assert note.status_code == 200 and note.json()["kind"] == "note"
    assert _post(agent1, f"/api/tickets/{ticket.id}/resolve", {"reason": "unknown"}).status_code == 422
    done = _post(agent1, f"/api/tickets/{ticket.id}/resolve", {"reason": "refunded", "note": "原路退回"})
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert done.json()["resolution_reason"] == "refunded"
    assert _post(agent1, f"/api/tickets/{ticket.id}/resolve", {"reason": "solved"}).status_code == 409
    page = boss.get("/tickets?status=resolved&topic=refund", headers={**HTML, "Accept-Language": "en"}).text
    assert "Refunded" in page and "已联系仓库" in page and "claimed" in page
    # the customer's lookup in chat reads the same ticket
    store = TicketStore(console.session_factory, clock=clock)
    assert store.get(ticket.id).status == "resolved" and ticket.id not in [t.id for t in store.open_for("C000001")]


def test_the_page_form_posts_need_the_csrf_token_and_redirect_back(console: Console, clock) -> None:
    ticket = _open(console, clock, "web-inbox-3", "order")
    agent = console.client("agent1")
    page = agent.get("/tickets?scope=unassigned", headers=HTML).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert agent.post(f"/api/tickets/{ticket.id}/claim", data={}, headers=HTML).status_code == 403
    response = agent.post(f"/api/tickets/{ticket.id}/claim", data={"csrf_token": token, "back": "/tickets?scope=mine"},
                          headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/tickets?scope=mine"
    evil = agent.post(f"/api/tickets/{ticket.id}/notes", data={"csrf_token": token, "text": "ok",
                                                               "back": "//example.com"}, headers=HTML,
                      follow_redirects=False)
    assert evil.headers["location"] == "/tickets"


def test_overdue_complaints_and_followups_are_highlighted_to_supervisors(console_factory, clock) -> None:
    early = console_factory()
    complaint = _open(early, clock, "web-inbox-4", "complaint")
    followup = TicketStore(early.session_factory, clock=clock).open_followup(
        customer_id="C000002", conversation_id="web-inbox-5", channel="web", subject="低分", due_in=timedelta(hours=24))
    later = console_factory(clock=lambda: clock() + timedelta(hours=25))
    boss = later.client("boss")
    overdue = boss.get("/api/tickets?overdue=1").json()
    assert {complaint.id, followup.id} <= {r["id"] for r in overdue["tickets"]}
    assert all(r["overdue"] for r in overdue["tickets"]) and overdue["overdue"] == overdue["count"]
    page = boss.get("/tickets?overdue=1", headers=HTML).text
    assert 'data-testid="overdue-total"' in page and 'class="overdue"' in page
    assert due_of(TicketStore(later.session_factory).get(complaint.id)) == clock() + timedelta(hours=24)


def test_the_dashboard_card_counts_the_overdue_tickets_and_links_to_them(console_factory, clock) -> None:
    early = console_factory()
    before = early.client("boss").get("/api/tickets?overdue=1").json()["count"]
    _open(early, clock, "web-inbox-6", "complaint", customer=None)
    later = console_factory(clock=lambda: clock() + timedelta(hours=25))
    expected = later.client("boss").get("/api/tickets?overdue=1").json()["count"]
    assert expected >= before + 1
    page = later.client("boss").get("/supervisor/dashboard", headers=HTML).text
    card = re.search(r'data-testid="kpi-overdue-tickets"><a href="/tickets\?overdue=1">(\d+)</a>', page)
    assert card and int(card.group(1)) == expected

"""SLA and the weekly report over the console's test client: the queue's SLA fields move with the clock,
the tickets inbox filters by SLA, the SLA report (page, JSON, CSV) groups by team / agent / reason /
week, the stored weekly reports open as pages and CSV; supervisors only."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from common.settings import Settings
from desk.handoffs import HandoffQueue
from desk.models import Ticket, WeeklyReport
from desk.review import record_first_response
from desk.tickets import TicketStore
from desk.weekly_report import WeeklyReports
from tests.conftest import MovableClock
from tests.desk.console.conftest import Console, enqueue
from tests.desk.test_weekly_report import tracker_db

HTML = {"Accept": "text/html"}


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))


def _ids(rows: list[dict]) -> list[int]:
    return [r["id"] for r in rows]


def test_the_queue_carries_the_sla_and_it_moves_with_the_clock(console_factory) -> None:
    clock = MovableClock()
    console: Console = console_factory(clock=clock)
    vip = enqueue(console.queue, "web-sla-q1", priority=1)
    other = enqueue(console.queue, "web-sla-q2", priority=5, reason="user_request")
    agent = console.client("agent1")
    rows = {r["id"]: r for r in agent.get("/api/queue").json()["queued"]}
    assert rows[vip]["sla_class"] == "vip" and rows[vip]["sla_state"] == "ok"
    assert rows[vip]["sla_step"] == "first_response" and rows[vip]["sla_breach_in_s"] == 120
    assert rows[other]["sla_class"] == "other" and rows[other]["sla_breach_in_s"] == 15 * 60
    clock.advance(seconds=100)
    rows = {r["id"]: r for r in agent.get("/api/queue", headers={"Accept-Language": "zh"}).json()["queued"]}
    assert rows[vip]["sla_state"] == "warning" and rows[vip]["sla_label"] == "即将超时"
    assert rows[other]["sla_state"] == "ok"
    clock.advance(seconds=30)
    rows = {r["id"]: r for r in agent.get("/api/queue").json()["queued"]}
    assert rows[vip]["sla_state"] == "breached" and rows[vip]["sla_breach_in_s"] == -10
    page = agent.get("/", headers=HTML).text
    assert '"sla_state": "breached"' in page  # the first snapshot drawn by queue.js
    assert agent.post(f"/api/handoffs/{vip}/claim", headers={"X-CSRF-Token": agent.csrf}).status_code == 200
    card = agent.get(f"/handoffs/{vip}", headers={**HTML, "Accept-Language": "en"}).text
    assert 'data-state="breached"' in card and "First response: Past target" in card


def test_the_inbox_marks_and_filters_tickets_by_sla(console_factory) -> None:
    clock = MovableClock()
    console: Console = console_factory(clock=clock)
    store = TicketStore(console.session_factory, clock=clock)
    refund = store.record_contact(customer_id=None, conversation_id="web-sla-t1", channel="web", topic="refund",
                                  subject="退款").ticket  # refund: first response in 4 h
    clock.advance(hours=3, minutes=30)
    invoice = store.record_contact(customer_id=None, conversation_id="web-sla-t2", channel="web", topic="invoice",
                                   subject="发票").ticket  # other: 8 h
    boss = console.client("boss")
    rows = {r["id"]: r for r in boss.get("/api/tickets").json()["tickets"]}
    assert rows[refund.id]["sla_state"] == "warning" and rows[invoice.id]["sla_state"] == "ok"
    at_risk = boss.get("/api/tickets?sla=at_risk").json()["tickets"]
    assert refund.id in _ids(at_risk) and invoice.id not in _ids(at_risk)
    assert all(r["status"] in ("open", "pending") and r["sla_state"] in ("warning", "breached") for r in at_risk)
    assert refund.id not in _ids(boss.get("/api/tickets?sla=breached").json()["tickets"])
    clock.advance(hours=1)
    breached = boss.get("/api/tickets?sla=breached").json()["tickets"]
    assert refund.id in _ids(breached) and all(r["sla_state"] == "breached" for r in breached)
    en = boss.get("/tickets?sla=at_risk", headers={**HTML, "Accept-Language": "en"}).text
    assert f'data-ticket="{refund.id}"' in en and f'data-ticket="{invoice.id}"' not in en
    assert 'data-state="breached"' in en and "Past target" in en
    zh = boss.get("/tickets", headers={**HTML, "Accept-Language": "zh"}).text
    assert "已超时" in zh and "正常" in zh and 'data-testid="sla-at-risk"' in zh


def test_the_sla_report_groups_by_team_agent_reason_and_week(console_factory, session_factory) -> None:
    clock = MovableClock()
    console: Console = console_factory(session_factory, clock=clock)  # an empty database: only these items
    start = clock()
    answered = enqueue(console.queue, "web-sla-r1", priority=4)
    console.queue.claim(answered, agent_id="agent1")
    record_first_response(console.session_factory, answered, "agent1", start + timedelta(minutes=2))
    console.queue.resolve(answered)
    enqueue(console.queue, "web-sla-r2", priority=4)  # left waiting
    store = TicketStore(console.session_factory, clock=clock)
    ticket = store.record_contact(customer_id=None, conversation_id="web-sla-r3", channel="web", topic="complaint",
                                  subject="投诉").ticket
    with console.session_factory.begin() as session:
        session.get(Ticket, ticket.id).team = "complaints"
    clock.advance(hours=3)  # the late chat waited past its 10 minutes; the complaint past its 2 hours
    today = start.date().isoformat()
    boss = console.client("boss")
    data = boss.get(f"/supervisor/api/sla?by=team&date_from={today}&date_to={today}").json()
    groups = {g["value"]: g for g in data["groups"]}
    assert set(groups) == {"complaints", None}
    assert groups[None]["items"] == 2 and groups[None]["first_response"]["met"] == 1
    assert groups[None]["first_response"]["breached"] == 1
    assert groups["complaints"]["first_response"]["breached"] == 1
    assert data["all"]["items"] == 3 and data["all"]["first_response"]["met_rate"] == 1 / 3
    by_agent = {g["value"]: g["items"] for g in boss.get("/supervisor/api/sla?by=agent").json()["groups"]}
    assert by_agent == {"agent1": 1, None: 2}
    by_reason = boss.get("/supervisor/api/sla?by=reason&kind=chat", headers={"Accept-Language": "en"}).json()
    assert [(g["value"], g["items"]) for g in by_reason["groups"]] == [("refund", 2)]
    week = boss.get("/supervisor/api/sla?by=week").json()["groups"]
    assert [g["value"] for g in week] == [(start.date() - timedelta(days=start.weekday())).isoformat()]
    rows = _csv(boss.get("/supervisor/sla.csv?by=team", headers={"Accept-Language": "zh"}))
    assert rows[0][:3] == ["team", "label", "items"] and "first_response_breached" in rows[0]
    assert rows[-1][:3] == ["all", "合计", "3"]
    assert rows[2][:3] == ["", "未分配团队", "2"]
    page = boss.get("/supervisor/sla?by=team", headers={**HTML, "Accept-Language": "en"})
    assert page.status_code == 200 and 'data-group="complaints"' in page.text and "No team" in page.text
    assert "VIP customer" in page.text  # the policy table
    assert boss.get("/supervisor/api/sla?by=colour").status_code == 422
    assert console.client("agent1").get("/supervisor/api/sla").status_code == 403
    assert console.client("agent1").get("/supervisor/sla.csv").status_code == 403


def test_stored_weekly_reports_open_as_pages_and_csv(console_factory, session_factory) -> None:
    clock = MovableClock()
    console: Console = console_factory(session_factory, clock=clock)
    enqueue(console.queue, "web-sla-w1", priority=4)
    reports = WeeklyReports(console.session_factory, clock=clock)
    boss = console.client("boss")
    empty = boss.get("/supervisor/reports/weekly", headers={**HTML, "Accept-Language": "en"})
    assert empty.status_code == 200 and 'data-testid="weekly-empty"' in empty.text
    monday = clock().date() - timedelta(days=clock().weekday())
    reports.generate(monday)
    listing = boss.get("/supervisor/reports/weekly", headers={**HTML, "Accept-Language": "zh"}).text
    assert f'data-week="{monday.isoformat()}"' in listing
    page = boss.get(f"/supervisor/reports/weekly/{monday.isoformat()}", headers={**HTML, "Accept-Language": "zh"})
    assert page.status_code == 200
    assert "转人工主要原因" in page.text and "退款" in page.text and 'data-testid="weekly-sla"' in page.text
    rows = _csv(boss.get(f"/supervisor/reports/weekly/{monday.isoformat()}.csv"))
    assert rows[0] == ["section", "item", "value"] and ["handoff_reason", "refund", "1"] in rows
    assert boss.get("/supervisor/reports/weekly/2001-01-01", headers=HTML).status_code == 404
    assert boss.get("/supervisor/reports/weekly/not-a-day", headers=HTML).status_code == 404
    assert console.client("agent1").get(f"/supervisor/reports/weekly/{monday.isoformat()}").status_code == 403
    assert date.fromisoformat(rows[1][2]) == monday


def test_a_supervisor_writes_a_week_from_the_console(console_factory, session_factory, tmp_path) -> None:
    """The scheduled job may be off or may have failed: a supervisor writes the last complete week (or a
    chosen one) from the list page, again when data came late; a week not yet over is refused."""
    clock = MovableClock(datetime(2026, 11, 11, 10, 0))  # a Wednesday; the week of 9 November
    monday = date(2026, 11, 9)
    tracker_db(tmp_path / "tracker.db", [
        ("web-wk-1", datetime(2026, 11, 10, 9, 0), "那个东西咋整 13812345678", "nlu_fallback", 0.2),
        ("web-wk-1", datetime(2026, 11, 10, 9, 1), "我的快递到哪了", "order_status", 0.97)])
    settings = Settings(console_session_hours=8, console_queue_poll_ms=50, console_transcript_poll_ms=50,
                        tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}")
    console: Console = console_factory(session_factory, clock=clock, settings=settings)
    enqueue(console.queue, "web-wk-1", priority=4)  # a refund handoff that week
    boss, agent = console.client("boss"), console.client("agent1")
    en = {"X-CSRF-Token": boss.csrf, "Accept-Language": "en"}

    def stored() -> list[date]:
        with console.session_factory() as session:
            return [r.week_start for r in session.query(WeeklyReport).all()]

    listing = boss.get("/supervisor/reports/weekly", headers={**HTML, "Accept-Language": "zh"}).text
    assert 'data-testid="weekly-generate"' in listing and 'value="2026-11-02"' in listing  # last complete week
    not_over = boss.post("/supervisor/reports/weekly", json={"week": "2026-11-11"}, headers=en)
    assert not_over.status_code == 422 and "not over yet" in not_over.json()["detail"]
    for bad in ("not-a-day", "0001-01-01", "2026-13-01"):
        assert boss.post("/supervisor/reports/weekly", json={"week": bad}, headers=en).status_code == 422
    assert boss.post("/supervisor/reports/weekly", json={}).status_code == 403  # no CSRF token
    assert agent.post("/supervisor/reports/weekly", json={}, headers={"X-CSRF-Token": agent.csrf}).status_code == 403
    assert stored() == []

    clock.advance(days=7)  # now the week of 9 November is over; by default the last complete week is written
    boss = console.client("boss")  # signed in again: a console session lasts 8 hours
    en = {"X-CSRF-Token": boss.csrf, "Accept-Language": "en"}
    written = boss.post("/supervisor/reports/weekly", json={}, headers=en)
    assert written.status_code == 200 and written.json()["week_start"] == monday.isoformat()
    assert written.json()["figures"]["top_reasons"] == [["refund", 1]]
    assert written.json()["figures"]["misunderstood"] == 1
    rows = _csv(boss.get(f"/supervisor/reports/weekly/{monday.isoformat()}.csv"))
    assert ["misunderstood", "那个东西咋整 138****5678", "1"] in rows  # masked, as the job stores it

    # a handoff recorded late for that week: the form on the page writes the week again, then opens it
    HandoffQueue(console.session_factory, clock=lambda: datetime(2026, 11, 12, 8, 0)).enqueue(
        conversation_id="web-wk-2", customer_id=None, channel="web", language="en", reason="user_request",
        priority=5, summary="s", package={})
    clock.advance(hours=1)
    again = boss.post("/supervisor/reports/weekly", data={"week": "2026-11-12", "csrf_token": boss.csrf},
                      headers=HTML, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/supervisor/reports/weekly/{monday.isoformat()}"
    page = boss.get(again.headers["location"], headers={**HTML, "Accept-Language": "en"}).text
    assert "Written 2026-11-18 11:00" in page
    rows = _csv(boss.get(f"/supervisor/reports/weekly/{monday.isoformat()}.csv"))
    assert ["handoff_reason", "refund", "1"] in rows and ["handoff_reason", "user_request", "1"] in rows
    assert stored() == [monday]  # replaced, not a second copy

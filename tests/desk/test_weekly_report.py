"""The weekly report: written by the scheduled job (desk.retention) for the last complete week, once,
from the week's sessions, ratings, handoffs, SLA and the tracker store's misunderstood lines; stored so
past weeks open again; a CSV of it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from common.db import make_engine, make_session_factory
from desk import retention
from desk.conversations import ConversationLog
from desk.csv_export import to_csv
from desk.feedback import FeedbackLog
from desk.handoffs import HandoffQueue
from desk.models import WeeklyReport, WeeklyReportMessage
from desk.review import record_first_response
from desk.schema import create_all
from desk.weekly_report import WeeklyReports, WeekRefused, csv_rows, last_complete_week, misunderstood
from tests.conftest import MovableClock

MONDAY = datetime(2026, 11, 9, 10, 0)  # the week reported: 9 to 15 November 2026
AFTER = datetime(2026, 11, 17, 3, 0)  # the scheduled run, the Tuesday after
EPOCH = datetime(1970, 1, 1)


def tracker_db(path: Path, lines: list[tuple[str, datetime, str, str | None, float | None]]) -> sa.engine.Engine:
    """Rasa's ``events`` table (as SQLTrackerStore makes it) holding customer lines with their NLU result."""
    engine = make_engine(f"sqlite:///{path}")
    metadata = sa.MetaData()
    events = sa.Table("events", metadata, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("sender_id", sa.String(255)), sa.Column("type_name", sa.String(255)),
                      sa.Column("timestamp", sa.Float), sa.Column("intent_name", sa.String(255)),
                      sa.Column("action_name", sa.String(255)), sa.Column("data", sa.Text))
    metadata.create_all(engine)
    with engine.begin() as connection:
        for sender, at, text, intent, confidence in lines:
            stamp = (at - EPOCH).total_seconds()
            connection.execute(events.insert().values(
                sender_id=sender, type_name="user", timestamp=stamp, intent_name=intent,
                data=json.dumps({"event": "user", "text": text, "timestamp": stamp,
                                 "parse_data": {"intent": {"name": intent, "confidence": confidence}}})))
        connection.execute(events.insert().values(sender_id="web-x", type_name="bot", timestamp=(MONDAY - EPOCH)
                                                  .total_seconds(), data=json.dumps({"event": "bot", "text": "?"})))
    return engine


@pytest.fixture
def week(session_factory):
    """Three conversations last week (ratings 5 and 2: the 2 opens a follow-up ticket), three handoffs
    (two refunds: one answered in time, one left waiting; one user request), and one session the week
    before (not counted)."""
    clock = MovableClock(MONDAY - timedelta(days=3))
    log, ratings = ConversationLog(session_factory, clock=clock), FeedbackLog(session_factory, clock=clock)
    queue = HandoffQueue(session_factory, clock=clock)
    log.touch(conversation_id="web-before", channel="web", customer_id=None, language="zh")
    ratings.record(conversation_id="web-before", customer_id=None, channel="web", language="zh", tone=None,
                   rating=1, comment=None, idempotency_key="k0")
    clock.now = MONDAY
    for n, (sender, rating) in enumerate((("web-a", 5), ("web-b", 2))):
        log.touch(conversation_id=sender, channel="web", customer_id=None, language="zh")
        ratings.record(conversation_id=sender, customer_id=None, channel="web", language="zh", tone=None,
                       rating=rating, comment=None, idempotency_key=f"k{n + 1}")
    answered = queue.enqueue(conversation_id="web-a", customer_id=None, channel="web", language="zh",
                             reason="refund", priority=4, summary="s", package={}).id
    queue.claim(answered, agent_id="agent1")
    record_first_response(session_factory, answered, "agent1", MONDAY + timedelta(minutes=1))
    clock.advance(minutes=10)
    queue.resolve(answered)
    queue.enqueue(conversation_id="web-b", customer_id=None, channel="web", language="zh", reason="refund",
                  priority=4, summary="s", package={})  # nobody came: breached by the report's time
    queue.enqueue(conversation_id="web-c", customer_id=None, channel="web", language="en", reason="user_request",
                  priority=5, summary="s", package={})
    return session_factory


@pytest.fixture
def tracker(tmp_path):
    return tracker_db(tmp_path / "tracker.db", [
        ("web-a", MONDAY, "我的快递到哪了", "order_status", 0.95),  # understood
        ("web-a", MONDAY + timedelta(minutes=1), "那个东西咋整", "nlu_fallback", 0.2),
        ("web-b", MONDAY + timedelta(days=1), "那个东西咋整", "nlu_fallback", 0.25),
        ("web-b", MONDAY + timedelta(days=2), "手机 13812345678 收不到", "contact", 0.41),  # low confidence
        ("web-b", MONDAY + timedelta(days=2), "/greet", "greet", 0.1),  # a button payload, not typed
        ("web-c", MONDAY + timedelta(days=8), "下周的话", "nlu_fallback", 0.1),  # next week
    ])


def test_the_last_complete_week_is_the_one_before_this_weeks_monday():
    assert last_complete_week(AFTER) == date(2026, 11, 9)
    assert last_complete_week(datetime(2026, 11, 16, 0, 0)) == date(2026, 11, 9)
    assert last_complete_week(datetime(2026, 11, 15, 23, 59)) == date(2026, 11, 2)


def test_misunderstood_lines_are_fallbacks_and_low_confidence_masked(tracker):
    lines = misunderstood(tracker, MONDAY - timedelta(hours=10), MONDAY + timedelta(days=7))
    assert [(x["conversation_id"], x["intent"]) for x in lines] == [
        ("web-a", "nlu_fallback"), ("web-b", "nlu_fallback"), ("web-b", "contact")]
    assert all("13812345678" not in x["text"] for x in lines)
    assert misunderstood(None, MONDAY, AFTER) == []


def test_the_scheduled_run_writes_last_week_once(week, tracker):
    clock = MovableClock(AFTER)
    reports = WeeklyReports(week, tracker=tracker, clock=clock)
    stored = reports.run_due()
    assert stored is not None and stored.week_start == date(2026, 11, 9)
    f = stored.figures
    assert (f["week_start"], f["week_end"]) == ("2026-11-09", "2026-11-15")
    assert (f["conversations"], f["ratings"], f["csat_average"]) == (3, 2, 3.5)
    assert f["csat_met"] is False and f["targets"]["csat_average"] == 4.5
    assert f["handoffs"] == 3
    assert f["top_reasons"] == [["refund", 2], ["user_request", 1]]
    assert f["sla"]["items"] == 4  # three chats, and the follow-up ticket the rating of 2 opened
    assert f["sla"]["first_response"] == {"met": 1, "breached": 3, "running": 0, "met_rate": 0.25}
    assert f["sla"]["resolution"]["met"] == 1 and f["sla"]["resolution"]["breached"] == 3
    by_class = {c["sla_class"]: c for c in f["sla"]["by_class"]}
    assert by_class["refund"]["first_response"]["met"] == 1 and by_class["upset"]["items"] == 1
    assert f["misunderstood"] == 3
    assert stored.top_messages[0] == ("那个东西咋整", 2)
    assert reports.run_due() is None  # already stored: the daily job does not write it again
    clock.advance(days=7)
    assert reports.run_due().week_start == date(2026, 11, 16)
    assert [w for w, _ in reports.weeks()] == [date(2026, 11, 16), date(2026, 11, 9)]
    assert reports.get(date(2026, 11, 9)).figures == f  # a past week opens as it was written


def test_writing_a_week_again_replaces_it(week, tracker):
    reports = WeeklyReports(week, tracker=tracker, clock=lambda: AFTER)
    first = reports.generate(date(2026, 11, 11))  # any day of the week
    again = reports.generate(date(2026, 11, 9))
    assert first.id == again.id and first.week_start == date(2026, 11, 9)
    with week.begin() as session:
        assert session.scalar(select(sa.func.count(WeeklyReportMessage.id))) == 3
        assert session.scalar(select(sa.func.count(WeeklyReport.id))) == 1


def test_a_person_writes_only_a_week_that_is_over_and_still_has_its_transcripts(week, tracker):
    clock = MovableClock(datetime(2026, 11, 15, 23, 0))  # the Sunday evening of the week reported
    reports = WeeklyReports(week, tracker=tracker, clock=clock)
    with pytest.raises(WeekRefused) as refused:
        reports.write(date(2026, 11, 9))
    assert refused.value.why == "not_over" and reports.weeks() == []
    assert reports.write().week_start == date(2026, 11, 2)  # by default the last complete week
    clock.now = AFTER
    stored = reports.write(date(2026, 11, 14), retention_days=30)
    assert stored.week_start == date(2026, 11, 9) and stored.figures["misunderstood"] == 3
    with pytest.raises(WeekRefused) as refused:
        reports.write(date(1999, 12, 31))
    assert refused.value.why == "bad_week"
    clock.advance(days=40)  # retention has deleted that week's transcripts: its stored report is kept
    with pytest.raises(WeekRefused) as refused:
        reports.write(date(2026, 11, 9), retention_days=30)
    assert refused.value.why == "purged" and reports.get(date(2026, 11, 9)).figures == stored.figures
    assert reports.write(date(2026, 11, 9)).week_start == date(2026, 11, 9)  # retention off: transcripts kept


def test_the_csv_has_every_section_and_is_safe_for_spreadsheets(week, tracker):
    stored = WeeklyReports(week, tracker=tracker, clock=lambda: AFTER).generate(date(2026, 11, 9))
    header, rows = csv_rows(stored)
    text = to_csv(header, rows)
    assert text.startswith("\ufeffsection,item,value")
    sections = {r[0] for r in rows}
    assert {"week", "summary", "sla", "sla_refund", "handoff_reason", "misunderstood"} <= sections
    assert ["summary", "csat_average", 3.5] in rows
    assert ["handoff_reason", "refund", 2] in rows
    assert ["misunderstood", "那个东西咋整", 2] in rows


def test_the_retention_job_writes_the_weekly_report(tmp_path, monkeypatch, tracker):
    from common.settings import get_settings

    app_url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(app_url)
    create_all(engine)
    monkeypatch.setenv("DATABASE_URL", app_url)
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    get_settings.cache_clear()
    try:
        assert retention.main(["--older-than-days", "0"], engine=tracker) == 0
    finally:
        get_settings.cache_clear()
    with make_session_factory(engine).begin() as session:
        weeks = list(session.scalars(select(WeeklyReport.week_start)))
    assert weeks == [last_complete_week(datetime.utcnow())]
    engine.dispose()


def test_a_customers_misunderstood_lines_are_exported_and_erased_with_their_data(seeded, tmp_path):
    from desk.privacy import PrivacyOffice
    from profiles.models import Customer

    with seeded.begin() as session:
        customer_id = session.scalars(select(Customer.id).order_by(Customer.id)).first()
    mine, other = f"web-{customer_id}", "web-someone-else"
    tracker = tracker_db(tmp_path / "tracker.db", [
        (mine, MONDAY, "那个东西咋整", "nlu_fallback", 0.2),
        (other, MONDAY, "那个东西咋整", "nlu_fallback", 0.2),
    ])
    reports = WeeklyReports(seeded, tracker=tracker, clock=lambda: AFTER)
    assert reports.generate(date(2026, 11, 9)).top_messages == [("那个东西咋整", 2)]
    office = PrivacyOffice(seeded, tracker)
    exported = office.export(customer_id, actor="boss")["weekly_report_messages"]
    assert [(m["conversation_id"], m["text"]) for m in exported] == [(mine, "那个东西咋整")]
    office.erase(customer_id, actor="boss", reason="customer asked")
    with seeded.begin() as session:
        left = list(session.scalars(select(WeeklyReportMessage.conversation_id)))
    assert left == [other]
    stored = reports.get(date(2026, 11, 9))
    assert stored.top_messages == [("那个东西咋整", 1)] and stored.figures["misunderstood"] == 2


def test_a_week_is_written_by_hand_from_the_command_line(week, tracker, capsys):
    from desk.weekly_report import main

    assert main(["--week", "2026-11-12"], session_factory=week, tracker=tracker) == 0
    assert "2026-11-09" in capsys.readouterr().out
    with week.begin() as session:
        first = session.scalars(select(WeeklyReport)).one()
        first_at = first.generated_at
    assert main(["--week", "2026-11-09"], session_factory=week, tracker=tracker) == 0  # kept without --force
    assert main(["--week", "2026-11-09", "--force"], session_factory=week, tracker=tracker) == 0
    with week.begin() as session:
        again = session.scalars(select(WeeklyReport)).one()
        assert again.id == first.id and again.generated_at >= first_at
        assert again.figures["top_reasons"] == [["refund", 2], ["user_request", 1]]
    this_week = datetime.utcnow().date().isoformat()  # not over yet: refused, nothing written
    assert main(["--week", this_week], session_factory=week, tracker=tracker) == 2
    assert "not over yet" in capsys.readouterr().err
    with week.begin() as session:
        assert session.scalar(select(sa.func.count(WeeklyReport.id))) == 1

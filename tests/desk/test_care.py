"""Proactive care: every planning rule (pure, with an injected clock), the store over the seeded database
(orders past their ETA, closed complaints, birthdays, the once-only key, privacy rows) and one scheduler
round with the real WeChat delivery path (window closed → held in the outbox)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from bot.wording import find_forbidden, load_forbidden_words
from common.privacy import DataSubject
from desk import care
from desk.care import (
    BIRTHDAY,
    CAP_DAILY,
    CAP_WEEKLY,
    FOLLOWUP,
    INTENSITY,
    NO_CONSENT,
    NOT_SIGNED_IN,
    OPTED_OUT,
    ORDER_DELAY,
    QUIET_HOURS,
    SEND,
    Candidate,
    CareRules,
    CareScheduler,
    CareStore,
    CustomerState,
    Sent,
    WebCourier,
    birthday_candidate,
    delay_candidate,
    followup_candidate,
    in_quiet_hours,
    parse_quiet_hours,
    plan,
)
from desk.live import InProcessBroker, customer_topic
from desk.models import ProactiveMessage, Ticket
from profiles.models import Consent, Order
from wechat.delivery import ServiceWindow, WeChatDelivery
from wechat.outbox import Outbox, OutboxMessage
from wechat.stores import MemoryStore

RULES = CareRules()  # 22:00-08:00 Asia/Shanghai (UTC+8), 1 a day, 3 a week
DAY_UTC = datetime(2026, 11, 20, 4, 0)  # 12:00 in Shanghai
NIGHT_UTC = datetime(2026, 11, 20, 15, 0)  # 23:00 in Shanghai
HIGH = CustomerState("C1", intensity="high")


def delay(customer: str = "C1", ref: str = "E1:2026-11-18") -> Candidate:
    return Candidate(customer, ORDER_DELAY, ref, "order E1: ETA passed", {"order_id": "E1", "eta": "2026-11-18",
                                                                        "new_eta": "2026-11-22"})


def followup(customer: str = "C1", ref: str = "ticket:7") -> Candidate:
    return Candidate(customer, FOLLOWUP, ref, "complaint ticket #7 closed")


def whys(decisions: list[care.Decision]) -> list[tuple[str, str]]:
    return [(d.candidate.kind, d.why) for d in decisions]


# --- the rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("utc", "quiet"), [
    (datetime(2026, 11, 20, 13, 59), False),  # 21:59 local
    (datetime(2026, 11, 20, 14, 0), True),  # 22:00 local
    (datetime(2026, 11, 20, 19, 0), True),  # 03:00 local
    (datetime(2026, 11, 20, 23, 59), True),  # 07:59 local
    (datetime(2026, 11, 21, 0, 0), False),  # 08:00 local
])
def test_quiet_hours_are_the_customers_time_across_midnight(utc: datetime, quiet: bool) -> None:
    assert in_quiet_hours(utc, RULES) is quiet


def test_quiet_hours_are_configurable_and_can_be_off() -> None:
    assert parse_quiet_hours("21:30-07:00") == (time(21, 30), time(7, 0))
    assert parse_quiet_hours("off") is None and parse_quiet_hours("") is None
    lunch = CareRules(quiet_hours=parse_quiet_hours("12:00-13:00"), timezone="UTC")
    assert in_quiet_hours(datetime(2026, 11, 20, 12, 30), lunch)
    assert not in_quiet_hours(datetime(2026, 11, 20, 23, 0), lunch)
    assert not in_quiet_hours(NIGHT_UTC, CareRules(quiet_hours=None))
    with pytest.raises(ValueError):
        parse_quiet_hours("late")


def test_in_quiet_hours_the_message_waits_and_goes_in_the_morning() -> None:
    assert whys(plan([delay()], {"C1": HIGH}, [], RULES, NIGHT_UTC)) == [(ORDER_DELAY, QUIET_HOURS)]
    morning = NIGHT_UTC + timedelta(hours=9)  # 08:00 local
    assert whys(plan([delay()], {"C1": HIGH}, [], RULES, morning)) == [(ORDER_DELAY, SEND)]


@pytest.mark.parametrize(("state", "why"), [
    (CustomerState("C1", intensity="high"), SEND),
    (CustomerState("C1", intensity="medium"), INTENSITY),
    (CustomerState("C1", intensity="low"), INTENSITY),
    (CustomerState("C1", personalization=False, intensity="high"), NO_CONSENT),  # off
    (CustomerState("C1", intensity="high", opted_out=True), OPTED_OUT),  # "stop messaging me"
    (CustomerState("C1", intensity="high", is_guest=True), NOT_SIGNED_IN),
    (None, NOT_SIGNED_IN),
])
def test_consent_intensity_and_opt_out(state: CustomerState | None, why: str) -> None:
    customers = {"C1": state} if state is not None else {}
    assert whys(plan([delay()], customers, [], RULES, DAY_UTC)) == [(ORDER_DELAY, why)]


def test_the_daily_cap_keeps_the_most_important_kind_and_the_rest_waits() -> None:
    birthday = Candidate("C1", BIRTHDAY, "2026", "birthday")
    decisions = plan([birthday, followup(), delay()], {"C1": HIGH}, [], RULES, DAY_UTC)
    assert whys(decisions) == [(ORDER_DELAY, SEND), (FOLLOWUP, CAP_DAILY), (BIRTHDAY, CAP_DAILY)]
    sent_yesterday = [Sent("C1", ORDER_DELAY, "E1:2026-11-18", DAY_UTC - timedelta(hours=25))]
    assert whys(plan([followup()], {"C1": HIGH}, sent_yesterday, RULES, DAY_UTC)) == [(FOLLOWUP, SEND)]
    sent_recently = [Sent("C1", ORDER_DELAY, "E1:2026-11-18", DAY_UTC - timedelta(hours=23))]
    assert whys(plan([followup()], {"C1": HIGH}, sent_recently, RULES, DAY_UTC)) == [(FOLLOWUP, CAP_DAILY)]


def test_the_weekly_cap_counts_seven_days() -> None:
    week = [Sent("C1", FOLLOWUP, f"ticket:{n}", DAY_UTC - timedelta(days=d)) for n, d in ((1, 2), (2, 4), (3, 6))]
    assert whys(plan([delay()], {"C1": HIGH}, week, RULES, DAY_UTC)) == [(ORDER_DELAY, CAP_WEEKLY)]
    assert whys(plan([delay()], {"C1": HIGH}, week, RULES, DAY_UTC + timedelta(days=1, hours=1))) == [
        (ORDER_DELAY, SEND)]  # the oldest left the week
    roomy = CareRules(daily_cap=5, weekly_cap=10)
    assert [d.why for d in plan([delay(), followup()], {"C1": HIGH}, [], roomy, DAY_UTC)] == [SEND, SEND]


def test_the_cap_is_per_customer_and_nothing_is_sent_twice() -> None:
    customers = {"C1": HIGH, "C2": CustomerState("C2", intensity="high")}
    decisions = plan([delay("C1"), delay("C2")], customers, [], RULES, DAY_UTC)
    assert [d.why for d in decisions] == [SEND, SEND]
    done = [Sent("C1", ORDER_DELAY, "E1:2026-11-18", DAY_UTC - timedelta(days=30))]
    assert whys(plan([delay("C1")], customers, done, RULES, DAY_UTC)) == [(ORDER_DELAY, care.ALREADY_SENT)]
    # a new ETA that passes again is a new notice
    assert whys(plan([delay("C1", "E1:2026-11-19")], customers, done, RULES, DAY_UTC)) == [(ORDER_DELAY, SEND)]


def test_delay_followup_and_birthday_candidates() -> None:
    today = date(2026, 11, 20)
    assert delay_candidate("C1", "E1", today, today) is None  # due today: not late yet
    late = delay_candidate("C1", "E1", today - timedelta(days=2), today)
    assert late is not None and late.values["new_eta"] == "2026-11-22" and late.ref == "E1:2026-11-18"
    now = datetime(2026, 11, 20, 12)
    assert followup_candidate("C1", 7, "complaint", now - timedelta(hours=23), now) is None  # too soon
    assert followup_candidate("C1", 7, "complaint", now - timedelta(hours=25), now) is not None
    assert followup_candidate("C1", 7, "complaint", now - timedelta(days=4), now) is None  # too late to ask
    assert birthday_candidate("C1", date(1990, 11, 20), today) is not None
    assert birthday_candidate("C1", date(1990, 11, 21), today) is None
    assert birthday_candidate("C1", date(2000, 2, 29), date(2027, 2, 28)) is not None
    assert birthday_candidate("C1", date(2000, 2, 29), date(2028, 2, 28)) is None


@pytest.mark.parametrize("kind", care.KINDS)
@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_message_exists_in_both_languages_without_forbidden_words(kind: str, language: str) -> None:
    values = {"order_id": "E20261118001", "eta": "2026-11-18", "new_eta": "2026-11-22"}
    text = care.message_text(Candidate("C1", kind, "r", "why", values), language)
    assert "{" not in text and text
    assert bool(__import__("re").search(r"[\u4e00-\u9fff]", text)) is (language == "zh")
    assert find_forbidden(text, load_forbidden_words()) == []


# --- the store and one round ---------------------------------------------------------------------------

TODAY = date(2026, 11, 20)  # the seed's today (tests/conftest.py)


def _prepare(seeded: sessionmaker) -> None:
    """C000001 (intensity high) has a shipped order three days late; C000005 (medium) one too; C000006 opted out."""
    with seeded.begin() as s:
        for customer in ("C000001", "C000005", "C000006"):
            order = s.scalars(sa.select(Order).where(Order.customer_id == customer, Order.status == "shipped")).first()
            if order is None:
                order = s.scalars(sa.select(Order).where(Order.customer_id == customer)).first()
                order.status = "shipped"
                order.delivered_at = None
            order.eta = TODAY - timedelta(days=3)
        consent = s.get(Consent, "C000006")
        consent.personalization, consent.intensity, consent.marketing = True, "high", False


def _rows(seeded: sessionmaker, customer: str) -> list[ProactiveMessage]:
    with seeded() as s:
        return list(s.scalars(sa.select(ProactiveMessage).where(ProactiveMessage.customer_id == customer)))


def test_a_round_records_the_delay_notice_once_for_the_web_and_only_for_who_opted_in(seeded: sessionmaker) -> None:
    _prepare(seeded)
    store = CareStore(seeded)
    now = datetime(2026, 11, 20, 4)  # noon in Shanghai
    scheduler = CareScheduler(store, RULES, clock=lambda: now)
    decisions = __import__("asyncio").run(scheduler.run_once())
    mine = {d.candidate.customer_id: d.why for d in decisions if d.candidate.kind == ORDER_DELAY}
    assert mine["C000001"] == SEND and mine["C000005"] == INTENSITY and mine["C000006"] == OPTED_OUT
    [row] = _rows(seeded, "C000001")
    assert (row.channel, row.conversation_id, row.status, row.language) == ("web", "web-C000001", "waiting", "zh")
    assert "原定 2026-11-17 送达" in row.text and "2026-11-22" in row.text and "ETA 2026-11-17 passed" in row.reason
    assert _rows(seeded, "C000005") == [] and _rows(seeded, "C000006") == []
    again = __import__("asyncio").run(scheduler.run_once())
    assert {d.why for d in again if d.candidate.customer_id == "C000001"} <= {care.ALREADY_SENT, CAP_DAILY}
    assert len(_rows(seeded, "C000001")) == 1
    assert store.for_conversation("web-C000001")[0]["reason"].startswith("order ")


def test_in_quiet_hours_nothing_is_recorded(seeded: sessionmaker) -> None:
    _prepare(seeded)
    scheduler = CareScheduler(CareStore(seeded), RULES, clock=lambda: datetime(2026, 11, 20, 15))
    decisions = __import__("asyncio").run(scheduler.run_once())
    assert {d.why for d in decisions if d.candidate.customer_id == "C000001"} == {QUIET_HOURS}
    assert _rows(seeded, "C000001") == []


def test_a_followup_one_day_after_a_closed_complaint(seeded: sessionmaker) -> None:
    with seeded.begin() as s:
        s.add(Ticket(customer_id="C000001", topic="complaint", subject="slow courier", status="resolved",
                     created_at=datetime(2026, 11, 17, 9), resolved_at=datetime(2026, 11, 19, 2)))
    now = datetime(2026, 11, 20, 4)
    found = [c for c in CareStore(seeded).candidates(now, RULES) if c.kind == FOLLOWUP and c.customer_id == "C000001"]
    assert len(found) == 1 and found[0].ref.startswith("ticket:")
    assert [c for c in CareStore(seeded).candidates(now - timedelta(hours=3), RULES)
            if c.kind == FOLLOWUP and c.customer_id == "C000001"] == []  # closed less than a day before


def test_birthdays_are_read_where_the_column_exists(seeded: sessionmaker) -> None:
    now = datetime(2026, 11, 20, 4)
    assert [c for c in CareStore(seeded).candidates(now, RULES) if c.kind == BIRTHDAY] == []
    with seeded.begin() as s:
        columns = {c["name"] for c in sa.inspect(s.connection()).get_columns("customers")}
        if "birthday" not in columns:
            s.execute(sa.text("ALTER TABLE customers ADD COLUMN birthday DATE"))
        s.execute(sa.text("UPDATE customers SET birthday = '1985-11-20' WHERE id = 'C000001'"))
    found = [c for c in CareStore(seeded).candidates(now, RULES) if c.kind == BIRTHDAY]
    assert [(c.customer_id, c.ref) for c in found] == [("C000001", "2026")]


def test_a_wechat_customer_outside_the_window_gets_it_held(seeded: sessionmaker) -> None:
    import asyncio

    _prepare(seeded)
    from desk.models import Conversation
    from profiles.models import ChannelIdentity

    with seeded.begin() as s:
        openid = s.scalar(sa.select(ChannelIdentity.external_id).where(
            ChannelIdentity.customer_id == "C000001", ChannelIdentity.channel == "wechat"))
        s.add(Conversation(id=f"wechat:{openid}", channel="wechat", customer_id="C000001",
                           updated_at=datetime(2026, 11, 19, 8)))

    class NeverCalled:
        async def send_text(self, openid: str, text: str) -> None:
            raise AssertionError("the window is closed: nothing may be tried")

    outbox = Outbox(seeded.kw["bind"])
    delivery = WeChatDelivery(NeverCalled(), ServiceWindow(MemoryStore()), outbox)
    scheduler = CareScheduler(CareStore(seeded), RULES, wechat=delivery, clock=lambda: datetime(2026, 11, 20, 4))
    asyncio.run(scheduler.run_once())
    [row] = _rows(seeded, "C000001")
    assert (row.channel, row.status, row.conversation_id) == ("wechat", "held", f"wechat:{openid}")
    with seeded() as s:
        [held] = s.scalars(sa.select(OutboxMessage).where(OutboxMessage.openid == openid)).all()
    assert (held.reason, held.source) == ("window_closed", "care") and "2026-11-22" in held.text


def test_the_courier_hands_waiting_messages_to_a_connected_widget(seeded: sessionmaker) -> None:
    import asyncio

    _prepare(seeded)
    store = CareStore(seeded)
    asyncio.run(CareScheduler(store, RULES, clock=lambda: datetime(2026, 11, 20, 4)).run_once())

    class Tracker:
        def __init__(self) -> None:
            self.events: list[dict[str, Any]] = []

        async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
            self.events.extend(events)

    async def scenario() -> tuple[dict[str, Any] | None, int]:
        broker, tracker = InProcessBroker(), Tracker()
        courier = WebCourier(store, broker, tracker, poll_s=0.05)
        async with broker.subscribe(customer_topic("web-C000001")) as widget:
            runner = asyncio.create_task(courier.run())
            message = await widget.next(timeout=5)
            runner.cancel()
        assert tracker.events[0]["metadata"] == {"proactive": ORDER_DELAY}
        return message, await courier.deliver("web-C000001")

    message, again = asyncio.run(scenario())
    assert message is not None and message["proactive"] == ORDER_DELAY and "2026-11-22" in message["text"]
    assert again == 0  # delivered once
    [row] = _rows(seeded, "C000001")
    assert row.status == "sent" and row.delivered_at is not None


def test_privacy_rows_and_erasure(seeded: sessionmaker) -> None:
    import asyncio

    _prepare(seeded)
    asyncio.run(CareScheduler(CareStore(seeded), RULES, clock=lambda: datetime(2026, 11, 20, 4)).run_once())
    owner = care.CareData()
    with seeded.begin() as session:
        ids = owner.identify(session, "C000001").conversation_ids
        subject = DataSubject("C000001", ids, frozenset())
        assert [r["kind"] for r in owner.export(session, subject)["proactive_messages"]] == [ORDER_DELAY]
        owner.erase(session, subject)
    with seeded.begin() as session:
        assert owner.export(session, subject)["proactive_messages"] == []


def test_the_wechat_menu_offers_the_data_report_intensity_and_opt_out() -> None:
    from common.settings import ROOT
    from wechat.text import load_menu

    menu = load_menu(ROOT / "bot" / "connectors" / "wechat_menu.yml")
    assert {menu[k] for k in ("MY_DATA", "STOP_MESSAGES", "PERSONALIZATION_OFF", "PERSONALIZATION_LESS",
                              "PERSONALIZATION_STANDARD", "PERSONALIZATION_MORE")} == {
        "ask_my_data", "stop_messages", "personalization_off", "personalization_less", "personalization_standard",
        "personalization_more"}


def test_time_zones_by_name_or_offset() -> None:
    from datetime import timezone as tz

    assert CareRules(timezone="UTC+08:00").local(DAY_UTC) == datetime(2026, 11, 20, 12, 0)
    assert CareRules(timezone="UTC-05").local(DAY_UTC) == datetime(2026, 11, 19, 23, 0)
    assert care.zone("Asia/Shanghai").utcoffset(DAY_UTC) == tz(timedelta(hours=8)).utcoffset(DAY_UTC)
    with pytest.raises(ValueError):
        care.zone("Mars/Olympus")


def test_retention_deletes_proactive_messages_older_than_the_transcript_age(seeded: sessionmaker) -> None:
    from desk.retention import purge_app

    store = CareStore(seeded)
    old, recent = datetime(2026, 9, 1, 4), datetime(2026, 11, 19, 4)
    store.record(delay("C000001", "E1:2026-08-30"), care.Route("web", "web-C000001"), "zh", "old", old)
    store.record(delay("C000001", "E1:2026-11-17"), care.Route("web", "web-C000001"), "zh", "recent", recent)
    purge_app(seeded.kw["bind"], [], now=datetime(2026, 11, 20, 4).timestamp(), older_than_days=30)
    assert [r.text for r in _rows(seeded, "C000001")] == ["recent"]

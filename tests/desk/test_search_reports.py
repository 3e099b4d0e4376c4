"""Transcript search (jieba tokens in SQLite FTS5), agent/QA report aggregation, canned replies with the
word check, labels, and their place in the customer's export and erasure."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from bot.wording import find_forbidden, load_forbidden_words
from common.db import make_engine, make_session_factory
from common.settings import get_settings
from desk.canned import CannedError, CannedStore, forbidden_in, load_defaults, load_words
from desk.labels import LabelError, LabelStore
from desk.models import (
    Conversation,
    Feedback,
    Handoff,
    HandoffResponse,
    TranscriptIndexState,
    TranscriptLine,
    TranscriptReview,
)
from desk.privacy import PrivacyOffice
from desk.reports import Reports, monday
from desk.schema import create_all
from desk.search import TranscriptSearch, query_words, tokenize
from profiles.models import Customer

T0 = datetime(2026, 11, 30, 9, 0)  # a Monday


@pytest.fixture
def db() -> sessionmaker:
    engine = make_engine("sqlite://")
    create_all(engine)
    return make_session_factory(engine)


def line(kind: str, text: str, ts: float, **metadata: str) -> dict:
    return {"event": kind, "text": text, "timestamp": ts, "metadata": metadata}


# ------------------------------------------------------------------ tokenisation and search


def test_chinese_text_is_cut_into_words_and_the_query_into_the_words_it_must_match() -> None:
    words = tokenize("我想查询退款进度，谢谢！")
    assert {"退款", "进度", "查询"} <= set(words)
    assert "，" not in words and "！" not in words
    assert query_words("退款进度") == ["退款", "进度"]
    assert tokenize("Ｒｅｆｕｎｄ STATUS") == ["refund", "status"]  # full-width folded, lower case
    assert query_words("  ，。 ") == []


def test_search_finds_chinese_words_inside_sentences_and_english_whole_words(db: sessionmaker) -> None:
    search = TranscriptSearch(db)
    assert search.index_events("web-a", [line("user", "我想查询退款进度", 1.0),
                                         line("bot", "好的，正在为您查询物流信息", 2.0)]) == 2
    search.index_events("web-b", [line("user", "Where is my refund?", 3.0),
                                  line("bot", "请问还有其他问题吗", 4.0, sent_by="agent", agent_id="li")])
    assert [h.conversation_id for h in search.search("退款")] == ["web-a"]
    assert [h.text for h in search.search("物流")] == ["好的，正在为您查询物流信息"]
    assert [h.conversation_id for h in search.search("REFUND")] == ["web-b"]
    assert search.search("ref") == []  # whole words, not prefixes of them
    assert [h.conversation_id for h in search.search("查询")] == ["web-a", "web-a"]
    assert set(search.conversation_ids("查询")) == {"web-a"}
    assert search.search("退款 物流") == []  # every word in one line
    assert search.search("") == []
    assert [h.sender for h in search.search("其他问题")] == ["agent"]


def test_only_new_events_are_indexed_and_only_masked_text(db: sessionmaker) -> None:
    search = TranscriptSearch(db)
    events = [line("user", "我的手机是13812341234，帮我查退款", 1.0)]
    assert search.index_events("web-a", events) == 1
    assert search.index_events("web-a", events) == 0  # read again: nothing new
    assert search.index_events("web-a", [*events, line("bot", "好的", 2.0)]) == 1
    with db() as session:
        texts = session.scalars(sa.select(TranscriptLine.text)).all()
        tokens = " ".join(session.scalars(sa.select(TranscriptLine.tokens)).all())
        assert session.get(TranscriptIndexState, "web-a").indexed_until == 2.0
    assert "13812341234" not in " ".join(texts) and "13812341234" not in tokens
    assert "138****1234" in texts[0]
    assert search.search("13812341234") == []


def test_the_fts_index_follows_deletes(db: sessionmaker) -> None:
    search = TranscriptSearch(db)
    search.index_events("web-a", [line("user", "退款进度", 1.0)])
    with db.begin() as session:
        session.execute(sa.delete(TranscriptLine))
    assert search.search("退款") == []


async def test_refresh_reads_the_trackers_of_changed_conversations_only(db: sessionmaker) -> None:
    clock = [T0]
    search = TranscriptSearch(db, clock=lambda: clock[0])
    with db.begin() as session:
        session.add(Conversation(id="web-a", started_at=T0, updated_at=T0))
        session.add(Conversation(id="web-b", started_at=T0, updated_at=T0))
    trackers = {"web-a": [line("user", "发票怎么开", 1.0)], "web-b": [line("user", "换货", 1.0)]}
    read: list[str] = []

    async def tracker(cid: str) -> dict:
        read.append(cid)
        return {"events": trackers[cid]}

    clock[0] = T0 + timedelta(minutes=1)
    assert await search.refresh(tracker) == 2
    assert sorted(read) == ["web-a", "web-b"]
    read.clear()
    assert await search.refresh(tracker) == 0 and read == []  # nothing changed since
    trackers["web-a"].append(line("user", "发票抬头", 2.0))
    with db.begin() as session:
        session.get(Conversation, "web-a").updated_at = T0 + timedelta(minutes=2)
    clock[0] = T0 + timedelta(minutes=3)
    assert await search.refresh(tracker) == 1 and read == ["web-a"]
    assert [h.text for h in search.search("发票")] == ["发票抬头", "发票怎么开"]


# ------------------------------------------------------------------ reports


def seed_report(db: sessionmaker) -> None:
    with db.begin() as session:
        for i, (agent, first, resolve_after, rating, status) in enumerate([
            ("li", 30, 300, 5, "resolved"),
            ("li", 90, 600, 3, "resolved"),
            ("li", None, None, None, "assigned"),
            ("wang", 60, 120, 4, "resolved"),
        ], start=1):
            created = T0 + timedelta(hours=i)
            session.add(Conversation(id=f"c{i}", started_at=created, updated_at=created))
            session.add(Handoff(id=i, conversation_id=f"c{i}", reason="refund", priority=2, status=status,
                                summary="s", package={}, agent_id=agent, created_at=created,
                                claimed_at=created + timedelta(seconds=10),
                                resolved_at=created + timedelta(seconds=resolve_after) if resolve_after else None))
            session.flush()
            if first is not None:
                session.add(HandoffResponse(handoff_id=i, agent_id=agent,
                                            first_response_at=created + timedelta(seconds=first)))
            if rating is not None:
                session.add(Feedback(conversation_id=f"c{i}", handoff_id=i, rating=rating, idempotency_key=f"k{i}",
                                     created_at=created + timedelta(minutes=20)))
        session.add(Handoff(conversation_id="c9", reason="refund", priority=2, status="queued", summary="s",
                            package={}, created_at=T0))  # nobody took it: no agent row
        reviews = [("c1", T0 + timedelta(days=1), (4, 5, 3)), ("c2", T0 + timedelta(days=2), (2, 3, 5)),
                   ("c4", T0 + timedelta(days=8), (5, 5, 5))]
        for cid, at, (accuracy, empathy, resolution) in reviews:
            session.add(TranscriptReview(conversation_id=cid, reviewer="boss", accuracy=accuracy, empathy=empathy,
                                         resolution=resolution, created_at=at))


def test_agent_report_aggregates_handled_times_csat_and_qa_per_agent(db: sessionmaker) -> None:
    seed_report(db)
    li, wang = Reports(db).agents(date_from=T0.date(), date_to=T0.date() + timedelta(days=14))
    assert (li.agent, li.handled, li.resolved) == ("li", 3, 2)
    assert li.first_response_median == 60 and li.first_response_mean == 60
    assert li.resolution_median == 450 and li.csat == 4
    assert li.qa_mean("accuracy") == 3 and li.qa_mean("empathy") == 4 and li.qa_mean("resolution") == 4
    assert li.reviews == 2
    assert (wang.handled, wang.resolved, wang.first_response_median, wang.resolution_median, wang.csat) == (1, 1, 60, 120, 4)
    assert wang.qa_mean("accuracy") == 5
    row = li.row()
    assert row["handled"] == 3 and row["csat"] == 4 and row["qa_empathy"] == 4


def test_agent_report_covers_only_the_range(db: sessionmaker) -> None:
    seed_report(db)
    assert Reports(db).agents(date_from=T0.date() + timedelta(days=1), date_to=T0.date() + timedelta(days=3)) == []


def test_qa_means_per_criterion_per_week_for_everyone_or_one_agent(db: sessionmaker) -> None:
    seed_report(db)
    weeks = Reports(db).qa_weekly(date_from=T0.date(), date_to=T0.date() + timedelta(days=14))
    assert [(w.week, w.reviews) for w in weeks] == [(date(2026, 11, 30), 2), (date(2026, 12, 7), 1)]
    assert weeks[0].means == {"accuracy": 3, "empathy": 4, "resolution": 4}
    assert weeks[1].means == {"accuracy": 5, "empathy": 5, "resolution": 5}
    wang = Reports(db).qa_weekly(agent="wang")
    assert [(w.week, w.reviews) for w in wang] == [(date(2026, 12, 7), 1)]
    assert monday(date(2026, 12, 6)) == date(2026, 11, 30)


def test_qa_scores_filter_by_criterion_and_range(db: sessionmaker) -> None:
    seed_report(db)
    reports = Reports(db)
    assert reports.qa_matching(criterion="accuracy", maximum=2) == {"c2"}
    assert reports.qa_matching(criterion="resolution", minimum=5) == {"c2", "c4"}
    assert reports.qa_matching(minimum=4) == {"c1", "c4"}  # mean of the criteria: c1 4, c2 3.33, c4 5
    with pytest.raises(ValueError):
        reports.qa_matching(criterion="speed")


# ------------------------------------------------------------------ canned replies


def store(db: sessionmaker) -> CannedStore:
    return CannedStore(db, forbidden_words_file=get_settings().forbidden_words_file)


def test_canned_replies_start_from_the_defaults_in_both_languages(db: sessionmaker) -> None:
    replies = store(db)
    zh, en = replies.replies("zh"), replies.replies("en")
    defaults = load_defaults()
    assert [r.id for r in zh] == [r.id for r in defaults["zh"]] and [r.text for r in en] == [r.text for r in defaults["en"]]
    assert replies.replies("fr") == en


def test_a_reply_with_a_forbidden_word_is_refused_with_the_words_found(db: sessionmaker) -> None:
    replies = store(db)
    with pytest.raises(CannedError) as refused:
        replies.save(actor="boss", language="zh", key="sorry", title="抱歉", text="这个我们无法处理，不能退款")
    assert refused.value.key == "canned_error_forbidden"
    assert refused.value.values["words"] == "不能、无法"
    with pytest.raises(CannedError) as refused_en:
        replies.save(actor="boss", language="en", key="no", title="No", text="That is impossible, your mistake.")
    assert "impossible" in refused_en.value.values["words"]
    assert all(r.id not in {"sorry", "no"} for r in replies.replies())


def test_canned_replies_are_added_changed_and_removed(db: sessionmaker) -> None:
    replies = store(db)
    added = replies.save(actor="boss", language="en", key="delivery", title="Delivery", text="Your parcel is on its way.")
    assert replies.replies("en")[-1] == added and added.position == len(load_defaults()["en"])
    changed = replies.save(actor="boss", language="en", key="delivery", title="Delivery",
                           text="Your parcel arrives tomorrow.", row_id=added.row_id)
    assert changed.text == "Your parcel arrives tomorrow."
    replies.remove(added.row_id, actor="boss")
    assert all(r.id != "delivery" for r in replies.replies("en"))
    greeting = replies.replies("zh")[0]
    replies.remove(greeting.row_id, actor="boss")
    assert greeting.id not in [r.id for r in store(db).replies("zh")]  # the defaults do not come back
    with pytest.raises(CannedError) as missing:
        replies.remove(added.row_id, actor="boss")
    assert missing.value.not_found
    for bad in ({"language": "fr"}, {"key": "Not A Key"}, {"title": ""}, {"text": "x" * 2001}):
        fields = {"actor": "boss", "language": "en", "key": "ok", "title": "T", "text": "Fine.", **bad}
        with pytest.raises(CannedError):
            replies.save(**fields)


def test_the_desk_word_check_matches_the_bots(db: sessionmaker) -> None:
    path = get_settings().forbidden_words_file
    words, bot_words = load_words(Path(path)), load_forbidden_words(path)
    samples = ["这个不能退", "Sorry, that's impossible", "unfortunately not", "You can't do that", "请稍等",
               "Impossible!", "差价已退", "It's your fault", "no problem", "我们无法处理"]
    for sample in samples:
        assert forbidden_in(sample, words) == find_forbidden(sample, bot_words), sample


# ------------------------------------------------------------------ labels


def test_labels_are_normalised_added_once_removed_and_filterable(db: sessionmaker) -> None:
    labels = LabelStore(db)
    assert labels.add("web-a", " Refund Delay ", actor="li") == "refund-delay"
    assert labels.add("web-a", "refund-delay", actor="wang") == "refund-delay"
    labels.add("web-a", "vip", actor="li")
    labels.add("web-b", "退款延迟", actor="li")
    assert labels.labels_of("web-a") == ["refund-delay", "vip"]
    assert labels.conversations_with("VIP") == {"web-a"}
    assert labels.all_labels() == ["refund-delay", "vip", "退款延迟"]
    assert labels.remove("web-a", "vip") and not labels.remove("web-a", "vip")
    assert labels.labels_by_conversation() == {"web-a": ["refund-delay"], "web-b": ["退款延迟"]}
    for bad in ("", "a" * 33, "<b>", "x;y"):
        with pytest.raises(LabelError):
            labels.add("web-a", bad, actor="li")


# ------------------------------------------------------------------ privacy


def test_export_holds_and_erasure_removes_the_customers_labels_and_indexed_lines(seeded: sessionmaker) -> None:
    with seeded.begin() as session:
        customer_id = session.scalars(sa.select(Customer.id).order_by(Customer.id)).first()
        session.merge(Conversation(id=f"web-{customer_id}", customer_id=customer_id))
        session.merge(Conversation(id="web-other"))
    TranscriptSearch(seeded).index_events(f"web-{customer_id}", [line("user", "退款到我的卡上", 1.0)])
    TranscriptSearch(seeded).index_events("web-other", [line("user", "退款进度", 1.0)])
    LabelStore(seeded).add(f"web-{customer_id}", "vip", actor="li")
    office = PrivacyOffice(seeded, None)
    document = office.export(customer_id, actor="boss")
    assert [row["label"] for row in document["conversation_labels"]] == ["vip"]
    assert [row["text"] for row in document["transcript_lines"]] == ["退款到我的卡上"]
    office.erase(customer_id, actor="boss", reason="customer asked")
    search = TranscriptSearch(seeded)
    assert [h.conversation_id for h in search.search("退款")] == ["web-other"]
    with seeded() as session:
        assert session.get(TranscriptIndexState, f"web-{customer_id}") is None


async def test_an_unreachable_tracker_leaves_the_index_as_it_is(db: sessionmaker) -> None:
    from desk.rasa_client import RasaUnavailable

    search = TranscriptSearch(db)
    with db.begin() as session:
        session.add(Conversation(id="web-a", started_at=T0, updated_at=T0))
    search.index_events("web-a", [line("user", "退款进度", 1.0)])
    with db.begin() as session:
        session.get(Conversation, "web-a").updated_at = datetime(2100, 1, 1)

    async def down(cid: str) -> dict:
        raise RasaUnavailable("connection refused")

    assert await search.refresh(down) == 0
    assert [h.conversation_id for h in search.search("退款")] == ["web-a"]
    assert search.stale() == ["web-a"]  # tried again next time

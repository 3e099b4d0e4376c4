"""The multi-turn runner's judging and file format (no servers), and the set's own shape."""

from __future__ import annotations

import pytest

from demo.seed import DEMO_CAST
from tests.conversations.matching import (
    PATTERNS,
    Conversation,
    SetError,
    Turn,
    check_unique,
    format_table,
    judge,
    matches,
    parse_set,
    pass_rates,
    reply_text,
)
from tests.conversations.run import load_set, sender_for


def test_substring_checks_fold_case_and_width():
    assert matches("Order", "your ORDER E2026", set())
    assert matches("E2026", "订单 Ｅ２０２６ 已发货", set())  # full-width in the reply
    assert not matches("refund", "return", set())


def test_regex_and_response_checks():
    assert matches(r"re:第 ?\d+ ?位", "您现在排在第 2 位", set())
    assert not matches(r"re:^\d+$", "a1", set())
    assert matches("response:utter_queue_position", "", {"utter_queue_position"})
    assert not matches("response:utter_queue_position", "utter_queue_position", set())


def test_reply_text_includes_button_titles():
    messages = [{"text": "Which order?", "buttons": [{"title": "E20261120001", "payload": "/inform"}]}, {"image": "x"}]
    assert reply_text(messages) == "Which order?\nE20261120001"


def test_judge_must_must_not_and_any():
    turn = Turn(user="x", must=("order",), must_not=("1 到 5",), any=("E2026", "which"))
    assert judge(turn, [{"text": "Which order do you mean?"}]).ok
    failed = judge(turn, [{"text": "请回复 1 到 5 之间的一个数字"}])
    assert not failed.ok and len(failed.failures) == 3
    assert judge(Turn(user="x"), []).failures == ["no reply"]


def test_judge_silence():
    assert judge(Turn(user="x", silent=True), []).ok
    assert not judge(Turn(user="x", silent=True), [{"text": "hi"}]).ok


def _item(**kw):
    return {"id": "a", "pattern": "queue", "language": "zh", "customer": "guest", "turns": [{"user": "hi"}], **kw}


@pytest.mark.parametrize("bad", [
    {"pattern": "nope"}, {"language": "fr"}, {"customer": "someone"}, {"turns": []},
    {"turns": [{"user": ""}]}, {"turns": [{"user": "x", "mustt": ["a"]}]}, {"turns": [{"user": "x", "must": ["re:("]}]},
    {"turns": [{"user": "x", "must": {"a": 1}}]},
])
def test_malformed_sets_are_refused(bad):
    with pytest.raises(SetError):
        parse_set({"conversations": [_item(**bad)]}, "f.yml", DEMO_CAST)


def test_parse_and_duplicate_ids():
    [c] = parse_set({"conversations": [_item(turns=[{"user": "hi", "must": "hello", "silent": False}])]}, "f.yml", DEMO_CAST)
    assert c.turns[0].must == ("hello",)
    with pytest.raises(SetError):
        check_unique([c, c])


def test_pass_rates_per_pattern_and_overall():
    def conv(cid, pattern):
        return Conversation(cid, pattern, "zh", "guest", (Turn("x"),))

    table = pass_rates([(conv("a", "queue"), True), (conv("b", "queue"), False), (conv("c", "survey"), True)])
    assert (table["queue"].passed, table["queue"].total, table["all"].passed, table["all"].total) == (1, 2, 2, 3)
    assert "| queue | 1 | 2 | 50% |" in format_table(table)


def test_senders():
    signed = Conversation("a", "queue", "zh", "demo-vip-zh", (Turn("x"),))
    assert sender_for(signed) == ("web-C000001", True)
    guest_a, signed_a = sender_for(Conversation("b", "queue", "en", "guest", (Turn("x"),)))
    assert guest_a.startswith("cv-") and signed_a is False and guest_a != sender_for(Conversation("b", "queue", "en", "guest", (Turn("x"),)))[0]


def test_the_held_out_set_covers_what_the_issue_asks():
    conversations = load_set()
    assert len(conversations) >= 80
    assert {c.customer for c in conversations} >= set(DEMO_CAST)
    assert {c.pattern for c in conversations} == set(PATTERNS)
    assert {c.language for c in conversations} == {"zh", "en", "mixed"}
    assert all(any(t.must or t.must_not or t.any or t.silent for t in c.turns) for c in conversations)


def test_placeholders_are_filled_from_the_resolver():
    from tests.conversations.matching import fill, filled

    seen = []

    def resolve(kind, customer, status):
        seen.append((kind, customer, status))
        return {"paid": "E20261120001", None: "E20261120009"}.get(status) if customer != "nobody" else None

    assert fill("取消订单{order:paid}", "demo-regular-zh", resolve) == "取消订单E20261120001"
    assert fill("{order:demo-vip-zh:paid}!", "demo-regular-zh", resolve) == "E20261120001!"
    assert fill("{refund_order}的退款", "demo-vip-zh", resolve) == "E20261120009的退款"
    assert seen == [("order", "demo-regular-zh", "paid"), ("order", "demo-vip-zh", "paid"), ("refund_order", "demo-vip-zh", None)]
    turn = filled(Turn(user="{order:paid}", must=("{order:paid}",)), "demo-regular-zh", resolve)
    assert (turn.user, turn.must) == ("E20261120001", ("E20261120001",))
    with pytest.raises(SetError):
        fill("{order:paid}", "nobody", resolve)

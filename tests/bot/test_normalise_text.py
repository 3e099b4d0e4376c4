"""The normaliser before the tokenizer (bot/components/normalise_text.py): noise out, words kept."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.normalise_text import (
    TEXT_ORIGINAL,
    OriginalText,
    Speller,
    TextNormaliser,
    english_vocabulary,
    normalise,
)

SHOP = Speller(["order", "refund", "ticket", "where", "delivery", "address", "wechat", "alipay"])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我的訂單怎麼還沒到", "我的订单怎么还没到"),
        ("請問退貨政策是什麼", "请问退货政策是什么"),
        ("Ｅ２０２６１１２０００１到哪了", "E20261120001到哪了"),
        ("ｗｈｅｒｅ　ｉｓ　ｍｙ　ｏｒｄｅｒ", "where is my order"),
        ("到哪了？？？", "到哪了?"),
        ("where is my order!!!!", "where is my order!"),
        ("怎么还没到?!?!", "怎么还没到?"),
        ("好的。。。", "好的。"),
        ("😡😡 where is my order", "where is my order"),
        ("谢谢🙏🙏", "谢谢"),
    ],
)
def test_noise_is_taken_out(text: str, expected: str) -> None:
    assert normalise(text, SHOP) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("wher is my ordr", "where is my order"),
        ("I want a refnd", "I want a refund"),
        ("can u chnage my adress pls", "can you change my address please"),
        ("i did not recieve my pakage", "i did not receive my package"),
        ("Wher is my delivry", "Where is my delivery"),
    ],
)
def test_everyday_english_typos_are_corrected(text: str, expected: str) -> None:
    assert normalise(text, SHOP) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I want to return my jacket",  # a real word is never "corrected" into a shop word (jacket -> ticket)
        "the tracket number",  # not a typo of a shop word two edits away? it is kept when nothing is close
        "my order E20261120001 via SF",  # order numbers and acronyms are left alone
        "iPhone15 case",
        "/inform{\"order_id\":\"E20261120001\"}",  # button payloads pass untouched
    ],
)
def test_words_and_codes_are_kept(text: str) -> None:
    out = normalise(text, SHOP)
    assert "ticket" not in out
    if text != "the tracket number":
        assert out == text


def test_a_real_word_is_never_replaced_even_when_a_shop_word_is_one_edit_away() -> None:
    speller = Speller(["ticket", "order"])
    assert speller.correct("jacket") == "jacket"
    assert speller.correct("border") == "border"
    assert speller.correct("tiket") == "ticket"


def test_the_shop_vocabulary_keeps_its_own_words() -> None:
    assert normalise("pay with alipay or wechat", SHOP) == "pay with alipay or wechat"


@pytest.mark.parametrize("text", ["qwzx plorf vuut", "zzkq bnnm ttrw", "asdf jkl qwer"])
def test_keyboard_mash_is_not_turned_into_words(text: str) -> None:
    """Mash must still reach the fallback guard as mash ("plorf" is not a typo of "poor")."""
    speller = Speller(["poor", "order", "where", "refund", "ticket"])
    assert normalise(text, speller) == text


def test_emoji_only_and_blank_messages_are_kept() -> None:
    assert normalise("👍", SHOP) == "👍"
    assert normalise("", SHOP) == ""
    assert normalise("   ", SHOP) == ""


def test_vocabulary_comes_from_the_examples() -> None:
    vocabulary = english_vocabulary(["Where is my ORDER?", "我的order到哪了", "refund E20261120001"])
    assert {"where", "is", "my", "order", "refund"} <= vocabulary
    assert not any(ch.isdigit() for word in vocabulary for ch in word)


def _components(tmp_path):  # type: ignore[no-untyped-def]
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(graph_schema=None, model_id="normalise")  # type: ignore[arg-type]
    resource = Resource("normaliser")
    normaliser = TextNormaliser.create({}, storage, resource, context)
    normaliser.train(TrainingData([Message(data={TEXT: "where is my order"}), Message(data={TEXT: "wechat pay"})]))
    loaded = TextNormaliser.load({}, storage, resource, context)
    return loaded, OriginalText.create({}, storage, Resource("original"), context)


def test_the_pipeline_reads_the_normalised_text_and_gives_back_the_original(tmp_path) -> None:  # type: ignore[no-untyped-def]
    normaliser, original = _components(tmp_path)
    message = Message(data={TEXT: "wher is my ordr？？ 😡"})
    normaliser.process([message])
    assert message.get(TEXT) == "where is my order?"
    assert message.get(TEXT_ORIGINAL) == "wher is my ordr？？ 😡"
    original.process([message])
    parse = message.as_dict(only_output_properties=True)
    assert parse[TEXT] == "wher is my ordr？？ 😡"  # transcripts and slots from text keep what was written
    assert parse[TEXT_ORIGINAL] == "wher is my ordr？？ 😡"
    assert parse["text_normalised"] == "where is my order?"


def test_the_stored_vocabulary_is_used_after_loading(tmp_path) -> None:  # type: ignore[no-untyped-def]
    normaliser, _ = _components(tmp_path)
    message = Message(data={TEXT: "pay by wechat"})
    normaliser.process([message])
    assert message.get(TEXT) == "pay by wechat"


def test_training_examples_are_normalised_without_corrections(tmp_path) -> None:  # type: ignore[no-untyped-def]
    normaliser, _ = _components(tmp_path)
    data = TrainingData([Message(data={TEXT: "我的訂單到哪了？？"}), Message(data={TEXT: "wher"})])
    normaliser.process_training_data(data)
    assert [m.get(TEXT) for m in data.training_examples] == ["我的订单到哪了?", "wher"]

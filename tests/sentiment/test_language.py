"""Language of one message."""

from __future__ import annotations

import pytest

from sentiment.language import detect_language


@pytest.mark.parametrize(
    "text, fallback, expected",
    [
        ("你好", "en", "zh"),
        ("我的order到哪了", "en", "zh"),
        ("where is my 订单", "en", "zh"),
        ("where is my order", "zh", "en"),
        ("E20261120001", "zh", "zh"),  # an order number alone keeps the language
        ("12345", "en", "en"),
        ("12345", "zh", "zh"),
        ("😀👍", "en", "en"),
        ("", "en", "en"),
        (None, "zh", "zh"),
        ("？！。", "en", "en"),
        ("㐀", "en", "zh"),  # CJK extension A
    ],
)
def test_detect_language(text, fallback, expected):
    assert detect_language(text, fallback=fallback) == expected


def test_default_fallback_is_zh():
    assert detect_language("123") == "zh"


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [("E20261121003", "zh", "zh"), ("e20261121003", "zh", "zh"), ("SF1234567890", "zh", "zh"),
     ("E20261121003 please", "zh", "en"), ("ok", "zh", "en"), ("订单E20261121003", "en", "zh")],
)  # fmt: skip
def test_codes_do_not_switch_the_language(text, previous, expected):
    assert detect_language(text, fallback=previous) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ", "en"), ("ＷＨＥＲＥ　ＩＳ　ＭＹ　ＯＲＤＥＲ？", "en"), ("ｏｋ", "en"),
     ("Ｅ２０２６１１２１００３", "zh")],
)  # fmt: skip
def test_full_width_letters_are_read_as_the_letters_they_are(text, expected):
    assert detect_language(text, fallback="zh") == expected

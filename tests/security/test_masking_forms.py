"""Issue 11 items 2 and 7: masking catches the forms people really type, and never stalls on long input.

``MASKED`` is the table of real-world forms (full-width digits, dots, dashes of every kind, ID numbers
with spaces, a full-width ＠, 15-digit cards); ``READABLE`` holds look-alikes that are not personal
data (order numbers as ``demo.seed`` makes them, dates, prices, tracking numbers) and stay as typed.
"""

from __future__ import annotations

import time

import pytest

from common.masking import MASK_INPUT_MAX, find_pii, mask_text

MASKED = [
    # phones
    ("电话１３８１２３４１２３４", "138****1234"),
    ("电话 138.1234.1234 谢谢", "138****1234"),
    ("phone 1381-234-1234", "138****1234"),
    ("手机138–1234–1234", "138****1234"),  # en dash
    ("手机138—1234—1234", "138****1234"),  # em dash
    ("手机138　1234　1234", "138****1234"),  # ideographic space
    ("手机138－1234－1234", "138****1234"),  # full-width hyphen-minus
    ("手机１３８－１２３４－１２３４", "138****1234"),
    ("手机138·1234·1234", "138****1234"),
    ("＋８６ １３８ １２３４ １２３４", "138****1234"),
    ("座机010–12345678", "010****5678"),
    # PRC ID numbers
    ("身份证110101 19900307 1234", "110101********1234"),
    ("身份证 1101 0119 9003 0712 34 请核对", "110101********1234"),
    ("身份证１１０１０１１９９００３０７１２３Ｘ", "110101********123X"),
    ("身份证110101-19900307-123x", "110101********123X"),
    # e-mail
    ("邮箱zhang.wei＠example.com", "z***@example.com"),
    ("邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "z***@example.com"),
    # bank cards
    ("卡号378282246310005", "**** **** **** 0005"),
    ("Amex 3782 822463 10005", "**** **** **** 0005"),
    ("卡号６２２２０２１２３４５６１２３４", "**** **** **** 1234"),
    ("卡号6222–0212–3456–1234", "**** **** **** 1234"),
]

READABLE = [
    "订单E20261120001到哪了",
    "订单Ｅ２０２６１１２０００１到哪了",
    "order e20261119002 and 20261120001",
    "2026-11-20 送达，2026.11.20，2026年11月20日",
    "金额¥1,388.00，优惠138.50元，共13.8元",
    "快递单号SF1234567890123，京东JDV123456789012",
    "时间13:45，数量12 件，房间1201室",
    "价格 138.00 / 139.00 / 158.00",
]


@pytest.mark.parametrize(("text", "shown"), MASKED)
def test_everyday_forms_are_masked(text: str, shown: str) -> None:
    masked = mask_text(text)
    assert shown in masked, masked
    assert find_pii(text), text
    assert mask_text(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize("text", READABLE)
def test_look_alikes_stay_readable(text: str) -> None:
    assert find_pii(text) == []
    assert mask_text(text) == text


def test_the_text_around_a_match_is_kept_as_typed() -> None:
    assert mask_text("（全角）电话１３８１２３４１２３４，谢谢！") == "（全角）电话138****1234，谢谢！"


LONG = 64 * 1024
KINDS = {
    "letters": "a" * LONG,
    "email local part": "a." * (LONG // 2),
    "email domain": "x@" + "a." * (LONG // 2 - 1),
    "at signs": "a@" * (LONG // 2),
    "digits": "1" * LONG,
    "spaced digits": "1 " * (LONG // 2),
    "dashed digits": "13-" * (LONG // 3),
    "dotted digits": "138." * (LONG // 4),
    "plus signs": "+8" * (LONG // 2),
    "full-width digits": "１" * LONG,
    "phones": "13812341234 " * (LONG // 12),
    "e-mails": "ab@example.com " * (LONG // 15),
    "chinese": "我的订单到哪了" * (LONG // 7),
    "mixed": "E2026112000 1 ＠ a-1.b 1381 " * (LONG // 27),
}


def _seconds(text: str) -> float:
    started = time.perf_counter()
    mask_text(text)
    return time.perf_counter() - started


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_64kb_of_each_kind_is_masked_in_linear_time(kind: str) -> None:
    text = KINDS[kind]
    small = text[: len(text) // 16]
    small_s = min(_seconds(small) for _ in range(3))
    large_s = _seconds(text)
    # linear: 16x the input takes about 16x the time; a quadratic pattern takes about 256x. The bound is
    # generous (load on a shared machine) and an absolute guard keeps tiny timings from deciding.
    assert large_s < max(80 * small_s, 2.0), (kind, small_s, large_s)


def test_a_string_beyond_the_bound_is_cut_before_masking() -> None:
    text = "电话13812341234 " + "x" * (MASK_INPUT_MAX * 2)
    masked = mask_text(text)
    assert "138****1234" in masked and "13812341234" not in masked
    assert len(masked) <= MASK_INPUT_MAX + 64

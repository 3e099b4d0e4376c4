"""common.masking: display forms, PII in free text (zh/en), order numbers left alone, contact hashing."""

from __future__ import annotations

import pytest

from common.masking import (
    find_pii,
    hash_contact,
    mask_bank_card,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
    normalize_contact,
)


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("13812341234", "138****1234"),
        ("+8613812341234", "138****1234"),
        ("+86 138 1234 1234", "138****1234"),
        ("138-1234-1234", "138****1234"),
        ("0086 13812341234", "138****1234"),
        ("86-13812341234", "138****1234"),
        ("010-12345678", "010****5678"),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("110101199003071234", "110101********1234"),
        ("11010119900307123x", "110101********123X"),
        ("110101900307123", "110101*****7123"),
    ],
)
def test_mask_id_number(raw: str, masked: str) -> None:
    assert mask_id_number(raw) == masked


@pytest.mark.parametrize(
    "raw", ["6222021234561234", "6222 0212 3456 1234", "6222-0212-3456-1234", "6217000010001231234"]
)
def test_mask_bank_card(raw: str) -> None:
    assert mask_bank_card(raw) == "**** **** **** 1234"


@pytest.mark.parametrize(
    "raw, masked",
    [("zhang.wei@example.com", "z***@example.com"), ("Emily.Carter@mail.example.org", "E***@mail.example.org")],
)
def test_mask_email(raw: str, masked: str) -> None:
    assert mask_email(raw) == masked


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("王秀英", "王**"),
        ("张伟", "张*"),
        ("欧阳娜娜", "欧***"),
        ("Emily Carter", "E. C***"),
        ("Mary Jane Watson", "M. J. W***"),
        ("Priya", "P***"),
        (None, None),
        ("", ""),
    ],
)
def test_mask_name(raw: str | None, masked: str | None) -> None:
    assert mask_name(raw) == masked


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我的电话13812341234谢谢", "我的电话138****1234谢谢"),
        ("电话：+86 138-1234-1234，麻烦尽快", "电话：138****1234，麻烦尽快"),
        ("身份证号110101199003071234请核对", "身份证号110101********1234请核对"),
        ("身份证11010119900307123X。", "身份证110101********123X。"),
        ("老身份证110101900307123", "老身份证110101*****7123"),
        ("银行卡6222021234561234退款", "银行卡**** **** **** 1234退款"),
        ("card 6222 0212 3456 1234 please", "card **** **** **** 1234 please"),
        ("邮箱zhang.wei@example.com谢谢", "邮箱z***@example.com谢谢"),
        ("Call me on +86 13812341234 or email emily@example.com.", "Call me on 138****1234 or email e***@example.com."),
        ("my number is +1 415 555 0134", "my number is 141****0134"),
        ("座机010-12345678", "座机010****5678"),
        ("ID110101199003071234", "ID110101********1234"),
        ("两个号码13812341234和13912345678", "两个号码138****1234和139****5678"),
    ],
)
def test_mask_text_masks_pii(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单E20261120001到哪了",
        "订单号：20261120001",
        "where is my order E20261120001?",
        "order 20261120001 and e20261119002",
        "快递单号SF1234567890123，金额299.00元，2026-11-20送达",
        "",
        "你好，我想改地址：上海市浦东新区世纪大道100号2栋1201室",
    ],
)
def test_mask_text_leaves_order_numbers_and_plain_text(text: str) -> None:
    assert mask_text(text) == text
    assert find_pii(text) == []


def test_mask_text_is_idempotent() -> None:
    text = "电话13812341234 身份证110101199003071234 卡6222021234561234 邮箱a.b@example.com 订单E20261120001"
    once = mask_text(text)
    assert mask_text(once) == once
    assert "E20261120001" in once


def test_find_pii_kinds_and_spans() -> None:
    text = "手机13812341234，邮箱li@example.com，身份证110101199003071234，卡号6222021234561234"
    found = find_pii(text)
    assert [kind for kind, _, _ in found] == ["phone", "email", "id_number", "bank_card"]
    assert [text[s:e] for _, s, e in found] == [
        "13812341234",
        "li@example.com",
        "110101199003071234",
        "6222021234561234",
    ]


@pytest.mark.parametrize(
    "a, b",
    [
        ("13812341234", "+86 138-1234-1234"),
        ("13812341234", "0086 138 1234 1234"),
        ("11010119900307123x", "11010119900307123X"),
        ("Zhang.Wei@Example.com ", "zhang.wei@example.com"),
    ],
)
def test_hash_contact_normalises(a: str, b: str) -> None:
    assert normalize_contact(a) == normalize_contact(b)
    assert hash_contact(a, "salt") == hash_contact(b, "salt")


def test_hash_contact_is_salted_sha256_hex() -> None:
    h = hash_contact("13812341234", "salt-1")
    assert len(h) == 64 and all(c in "0123456789abcdef" for c in h)
    assert h != hash_contact("13812341234", "salt-2")
    assert "13812341234" not in h
    assert normalize_contact("+86 138-1234-1234") == "13812341234"


@pytest.mark.parametrize(
    ("number", "masked"),
    [("70283358673024", "702*******3024"), ("SF1234567890", "SF1*****7890"), ("123", "***"), (None, None), ("", "")],
)
def test_mask_tracking_number(number, masked):
    from common.masking import mask_tracking_number

    assert mask_tracking_number(number) == masked

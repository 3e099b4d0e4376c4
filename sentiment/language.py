"""Which language a message is in (zh or en), mixed-script turns included."""

from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]{2,}")
# order numbers (E20261120001), tracking numbers and other codes say nothing about the language
_CODE = re.compile(r"\b[A-Za-z]{0,3}\d[\w-]*\b")


def detect_language(text: str | None, fallback: str = "zh") -> str:
    """``zh`` when the message has Chinese characters, ``en`` when it has Latin letters only.

    A mixed turn ("我的order到哪了") is answered in Chinese: a customer who writes any Chinese reads
    it. Text with neither (digits, emoji, an order number such as "E20261120001") keeps the
    conversation's language.
    """
    if not text:
        return fallback
    text = unicodedata.normalize("NFKC", text)  # full-width letters ("ｗｈｅｒｅ") are the letters they are
    if _CJK.search(text):
        return "zh"
    if _WORD.search(_CODE.sub(" ", text)):
        return "en"
    return fallback

"""The one masking module: every place that shows, stores or logs personal data goes through here.

Pure and regex based; nothing is loaded at import beyond compiling patterns.

Display forms::

    mask_phone("13812341234")            -> "138****1234"   (+86 / 0086 / spaces / dashes accepted)
    mask_id_number("110101199003071234") -> "110101********1234"  (15-char IDs: "110101*****1234")
    mask_bank_card("6222021234567890")   -> "**** **** **** 7890"
    mask_email("zhang.wei@example.com")  -> "z***@example.com"
    mask_name("王秀英") -> "王**",  mask_name("Emily Carter") -> "E. C***"

``find_pii(text)`` locates phones, PRC ID numbers, bank cards and e-mail addresses in free text (Chinese
text has no word boundaries, so patterns are delimited by "not a digit" rather than ``\\b``);
``mask_text(text)`` replaces each with its display form. Order numbers (``E20261120001`` or the bare
11 digits ``20261120001``) never match: mobiles start with 1, IDs and cards are longer. Masked output
contains ``*`` so masking twice changes nothing.

``hash_contact(value, salt)`` is the lookup key kept instead of a raw contact value: HMAC-SHA256 (hex)
keyed by ``salt`` over ``normalize_contact(value)`` (e-mail lower-cased; phone digits only without the
+86 prefix; ID numbers upper-cased without spaces).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

__all__ = [
    "MASK_INPUT_MAX",
    "PII_KINDS",
    "find_pii",
    "hash_contact",
    "mask_bank_card",
    "mask_email",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "mask_text",
    "normalize_contact",
]

PII_KINDS = ("email", "id_number", "bank_card", "phone")

# Longer strings are cut to this many characters before they are masked (``mask_text``): no message
# the channels accept is longer, and a bound keeps one request from holding the event loop.
MASK_INPUT_MAX = 16_384
_CUT_MARK = "…[cut]"

# Separators people put inside numbers, after NFKC (full-width forms become ASCII): space, hyphen, dot.
_SEP = r"[ \-.]?"
_DATE8 = r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_DATE6 = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID18_COMPACT_RE = re.compile(rf"[1-9]\d{{5}}{_DATE8}\d{{3}}[\dXx]")
_ID15_COMPACT_RE = re.compile(rf"[1-9]\d{{5}}{_DATE6}\d{{3}}")

# Every pattern is linear: a match may only start where its first character's run starts (look-behind),
# repetitions are bounded or made of disjoint classes, so a failed attempt never rescans what it read.
_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9_._%+\-])[A-Za-z0-9_._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}"
    r"(?![A-Za-z])"
)
# 18 characters with an optional single separator between any two (110101 19900307 1234, 1101 0119 ...);
# the compact form must carry a valid date of birth (``_valid_id``)
_ID18_RE = re.compile(r"(?<!\d)[1-9](?:[ \-.]?\d){16}[ \-.]?[\dXx](?![\dXx])")
_ID15_RE = re.compile(r"(?<!\d)[1-9](?:[ \-.]?\d){14}(?![\d\-.]?\d)")
# 16-19 digits plain, in groups of four (space or dash), or a 15-digit card (Amex 4-6-5 or plain)
_CARD_RE = re.compile(
    r"(?<!\d)(?:\d{15,19}|\d{4}(?:[ \-]\d{4}){3}(?:[ \-]?\d{1,3})?|\d{4}[ \-]\d{6}[ \-]\d{5})(?![\d])"
)
# mobile: 3-4-4 or 4-3-4 with optional separators, optional +86 / 0086 / (+86)
_MOBILE_RE = re.compile(
    rf"(?<![\d+])(?:(?:\+|00)?86[ \-]?|\(\+?86\)[ \-]?)?"
    rf"1[3-9](?:\d{_SEP}\d{{4}}|\d{{2}}{_SEP}\d{{3}}){_SEP}\d{{4}}(?![\d])"
)
# +<country code> followed by 7-12 digits (the "+" is required, so plain numbers never match)
_INTL_RE = re.compile(r"(?<![\d+])\+(?!86)[1-9]\d{0,2}(?:[ \-]?\d){7,12}(?!\d)")
# PRC landline with an explicit separator after the area code: 010-12345678, 0755 2345 6789
_LANDLINE_RE = re.compile(r"(?<!\d)0\d{2,3}[ \-]\d{3,4}[ \-]?\d{4}(?!\d)")


def _valid_id(match: str) -> bool:
    compact = re.sub(r"[ \-.]", "", match)
    pattern = _ID18_COMPACT_RE if len(compact) == 18 else _ID15_COMPACT_RE
    return bool(pattern.fullmatch(compact))


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _valid_card(match: str) -> bool:
    digits = _digits(match)
    if len(digits) != 15:
        return True
    # 15 digits: an Amex number (34/37), one grouped 4-6-5 as printed on the card, or a Luhn-valid one
    return digits.startswith(("34", "37")) or not match.isdigit() or _luhn(digits)


_PATTERNS: tuple[tuple[str, re.Pattern[str], Callable[[str], bool] | None], ...] = (
    ("email", _EMAIL_RE, None),
    ("id_number", _ID18_RE, _valid_id),
    ("id_number", _ID15_RE, _valid_id),
    ("bank_card", _CARD_RE, _valid_card),
    ("phone", _MOBILE_RE, None),
    ("phone", _INTL_RE, None),
    ("phone", _LANDLINE_RE, None),
)

# Characters NFKC leaves alone that people use as separators inside numbers
_EXTRA_FOLD = {
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\u301c\ufe58\ufe63"},
    **{ord(c): "." for c in "\u00b7\u2027\u30fb\uff65\u2022"},
}


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch).translate(_EXTRA_FOLD)
    return folded if len(folded) == 1 else ch


def fold(text: str) -> str:
    """NFKC per character (full-width digits, ＠, ideographic space → ASCII; dashes and middle dots →
    ``-`` and ``.``), keeping the length, so a span found in the folded text is the same span in ``text``."""
    if text.isascii():
        return text
    return "".join(ch if ch < "\x80" else _fold_char(ch) for ch in text)


_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _national_phone_digits(value: str) -> str:
    digits = _digits(value)
    if len(digits) == 15 and digits.startswith("0086"):
        return digits[4:]
    if len(digits) == 13 and digits.startswith("86") and digits[2] == "1":
        return digits[2:]
    return digits


def mask_phone(phone: str) -> str:
    """``13812341234`` / ``+86 138-1234-1234`` -> ``138****1234``; other numbers keep 3 + 4 digits."""
    digits = _national_phone_digits(phone)
    if len(digits) >= 8:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_id_number(id_number: str) -> str:
    """PRC ID (18 or 15 chars): keep the first 6 (area) and the last 4."""
    compact = re.sub(r"[\s\-.]", "", id_number).upper()
    if len(compact) <= 10:
        return "*" * max(len(compact) - 2, 0) + compact[-2:]
    return compact[:6] + "*" * (len(compact) - 10) + compact[-4:]


def mask_bank_card(card: str) -> str:
    """Keep the last 4 digits: ``**** **** **** 1234``."""
    digits = _digits(card)
    return f"**** **** **** {digits[-4:]}"


def mask_email(email: str) -> str:
    """``zhang.wei@example.com`` -> ``z***@example.com``."""
    email = email.strip()
    local, sep, domain = email.rpartition("@")
    if not sep:
        return email[:1] + "***" if email else ""
    return f"{local[:1]}***@{domain}"


def mask_tracking_number(number: str | None) -> str | None:
    """Keep the first 3 and last 4 characters of a parcel tracking number: 702*******3024."""
    if not number:
        return number
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str | None) -> str | None:
    """Name for logs: ``王秀英`` -> ``王**``; ``Emily Carter`` -> ``E. C***``; ``Emily`` -> ``E***``."""
    if name is None:
        return None
    name = name.strip()
    if not name:
        return name
    if _CJK_RE.search(name):
        compact = name.replace(" ", "").replace("·", "")
        return compact[0] + "*" * max(len(compact) - 1, 1)
    parts = name.split()
    if len(parts) == 1:
        return parts[0][0] + "***"
    initials = " ".join(f"{p[0]}." for p in parts[:-1])
    return f"{initials} {parts[-1][0]}***"


def find_pii(text: str) -> list[tuple[str, int, int]]:
    """``[(kind, start, end), ...]`` sorted by position; kinds: email, id_number, bank_card, phone.

    Matching runs on ``fold(text)`` (same length), so full-width and dashed forms are found too."""
    folded = fold(text)
    found: list[tuple[str, int, int]] = []
    taken = bytearray(len(folded))  # one flag per character: linear whatever the number of matches
    for kind, pattern, valid in _PATTERNS:
        for m in pattern.finditer(folded):
            start, end = m.span()
            if any(taken[start:end]) or (valid is not None and not valid(m.group())):
                continue
            found.append((kind, start, end))
            taken[start:end] = b"\x01" * (end - start)
    found.sort(key=lambda f: f[1])
    return found


_MASKERS = {
    "email": mask_email,
    "id_number": mask_id_number,
    "bank_card": mask_bank_card,
    "phone": mask_phone,
}


def mask_text(text: str, limit: int = MASK_INPUT_MAX) -> str:
    """Free text (zh or en) with every phone, ID number, bank card and e-mail masked.

    Text longer than ``limit`` characters is cut first (marked ``…[cut]``): masking stays bounded."""
    if not text:
        return text
    if len(text) > limit:
        text = text[:limit] + _CUT_MARK
    folded = fold(text)
    out: list[str] = []
    pos = 0
    for kind, start, end in find_pii(folded):
        out.append(text[pos:start])
        out.append(_MASKERS[kind](folded[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def normalize_contact(value: str) -> str:
    """Canonical form hashed for lookup: e-mail lower-case; phone digits (no +86); ID upper-case."""
    value = unicodedata.normalize("NFKC", value).strip()
    if "@" in value:
        return value.lower()
    compact = re.sub(r"[\s\-().]", "", value)
    if re.fullmatch(r"\+?\d+", compact):
        return _national_phone_digits(compact)
    return compact.upper()


def hash_contact(value: str, salt: str) -> str:
    """HMAC-SHA256 hex of ``normalize_contact(value)`` keyed by ``salt``."""
    return hmac.new(salt.encode("utf-8"), normalize_contact(value).encode("utf-8"), hashlib.sha256).hexdigest()

"""Checks on every response in bot/domain/**/*.yml (no Rasa import).

- no forbidden word in any text or button title (bot/forbidden_words.yml, or $FORBIDDEN_WORDS_FILE);
- every response has a zh variant (with CJK) and an en variant (without CJK);
- conditional variants are mutually exclusive (no two share a condition set);
- tone responses cover all language x tone combinations;
- every response has an unconditioned default;
- all variants of a response use the same {placeholders}.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.wording import find_forbidden, forbidden_words_path, load_forbidden_words  # noqa: E402

DOMAIN_DIR = ROOT / "bot" / "domain"
LANGUAGES = ("zh", "en")
TONES = ("neutral", "empathetic", "concise", "warm", "elder_friendly")
TONE_RESPONSES = (
    "utter_greet",
    "utter_greet_named",
    "utter_tone_opener",
    "utter_default",
    "utter_complaint_ack",
    "utter_handoff_queued",
    "utter_offer_human",
    "utter_anything_else",
    "utter_goodbye",
)

# Rasa's interpolation regex: {name}; doubled braces ({{...}}) are literal braces.
PLACEHOLDER = re.compile(r"(?<!\{)\{([^\n{}]+?)\}(?!\})")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# en variants: no CJK ideographs and no CJK/full-width punctuation either
CJK_OR_FULLWIDTH = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

Condition = frozenset[tuple[str, str]]


def _domain_files() -> list[Path]:
    return sorted(p for p in DOMAIN_DIR.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def _load_responses() -> dict[str, list[dict[str, Any]]]:
    responses: dict[str, list[dict[str, Any]]] = {}
    for path in _domain_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variants in (data.get("responses") or {}).items():
            assert name not in responses, f"{name} is defined in more than one domain file"
            assert isinstance(variants, list) and variants, f"{path.name}: {name} has no variants"
            responses[name] = variants
    return responses


RESPONSES = _load_responses()
NAMES = sorted(RESPONSES)


def _condition(variant: dict[str, Any]) -> Condition:
    return frozenset(
        (str(c.get("name")), str(c.get("value"))) for c in (variant.get("condition") or [])
    )


def _texts(variant: dict[str, Any]) -> list[str]:
    """The visible strings of a variant: its text and button titles."""
    out = [variant["text"]] if isinstance(variant.get("text"), str) else []
    for button in variant.get("buttons") or []:
        if isinstance(button, dict) and isinstance(button.get("title"), str):
            out.append(button["title"])
    return out


def _language(variant: dict[str, Any]) -> str | None:
    return dict(_condition(variant)).get("language")


def _placeholders(variant: dict[str, Any]) -> set[str]:
    return {m for t in _texts(variant) for m in PLACEHOLDER.findall(t)}


@pytest.fixture(scope="module")
def forbidden() -> dict[str, list[str]]:
    path = forbidden_words_path()
    assert path.is_file(), f"forbidden words file {path} is missing"
    words = load_forbidden_words(path)
    assert words["zh"] and words["en"], f"{path} needs both a zh and an en list"
    return words


def test_domain_has_responses():
    assert _domain_files(), f"no domain files under {DOMAIN_DIR}"
    assert RESPONSES, "no responses found"


def test_find_forbidden_helper():
    words = {"zh": ["无法", "错误"], "en": ["can't", "fail", "your fault"]}
    assert find_forbidden("抱歉，系统无法处理", words) == ["无法"]
    assert find_forbidden("We CAN\u2019T do that", words) == ["can't"]
    assert find_forbidden("It's YOUR   fault", words) == ["your fault"]
    assert find_forbidden("订单fail了", words) == ["fail"]
    assert find_forbidden("a failsafe canteen", words) == []  # whole words only
    assert find_forbidden("", words) == []


@pytest.mark.parametrize("name", NAMES)
def test_no_forbidden_words(name, forbidden):
    hits = []
    for i, variant in enumerate(RESPONSES[name]):
        for text in _texts(variant):
            found = find_forbidden(text, forbidden)
            if found:
                hits.append(f"variant {i}: {found} in {text!r}")
    assert not hits, f"{name} uses forbidden words:\n" + "\n".join(hits)


@pytest.mark.parametrize("name", NAMES)
def test_has_zh_and_en_variants(name):
    variants = RESPONSES[name]
    zh = [v for v in variants if _language(v) == "zh"]
    en = [v for v in variants if _language(v) == "en"]
    assert zh, f"{name} has no zh variant"
    assert en, f"{name} has no en variant"
    for v in zh:
        assert CJK.search(v.get("text") or ""), f"{name}: zh variant without Chinese: {v.get('text')!r}"
    for v in en:
        for text in _texts(v):
            assert not CJK_OR_FULLWIDTH.search(text), f"{name}: en variant contains CJK: {text!r}"


@pytest.mark.parametrize("name", NAMES)
def test_conditions_mutually_exclusive(name):
    seen: dict[Condition, int] = {}
    for i, variant in enumerate(RESPONSES[name]):
        cond = _condition(variant)
        if not cond:
            continue
        assert cond not in seen, f"{name}: variants {seen[cond]} and {i} have the same condition {sorted(cond)}"
        seen[cond] = i
    conds = list(seen)
    # with slots language/tone, a variant conditioned on a subset of another's condition
    # also matches whenever the other does: Rasa would pick between them at random
    for a in conds:
        for b in conds:
            assert not (a < b), f"{name}: condition {sorted(a)} overlaps {sorted(b)}"


@pytest.mark.parametrize("name", TONE_RESPONSES)
def test_tone_responses_cover_all_combinations(name):
    assert name in RESPONSES, f"tone response {name} is missing"
    conds = {_condition(v) for v in RESPONSES[name] if v.get("condition")}
    expected = {frozenset({("language", lang), ("tone", tone)}) for lang in LANGUAGES for tone in TONES}
    missing = sorted(sorted(c) for c in expected - conds)
    assert not missing, f"{name} lacks variants for {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_has_unconditioned_default(name):
    defaults = [v for v in RESPONSES[name] if not v.get("condition")]
    assert len(defaults) == 1, f"{name} needs exactly one unconditioned default, has {len(defaults)}"


@pytest.mark.parametrize("name", NAMES)
def test_placeholders_consistent(name):
    variants = RESPONSES[name]
    reference = _placeholders(variants[0])
    for i, variant in enumerate(variants[1:], start=1):
        got = _placeholders(variant)
        assert got == reference, f"{name}: variant {i} uses {sorted(got)}, variant 0 uses {sorted(reference)}"


WIDGET_STRINGS = ROOT / "widget" / "strings.json"


@pytest.mark.parametrize("language", LANGUAGES)
def test_widget_interface_has_no_forbidden_words(language, forbidden):
    """The web chat widget's own wording (widget/strings.json) follows the same rule as the responses."""
    catalogue = yaml.safe_load(WIDGET_STRINGS.read_text(encoding="utf-8"))  # JSON is YAML
    hits = {key: find_forbidden(text, forbidden) for key, text in catalogue[language].items()}
    assert not {k: v for k, v in hits.items() if v}, f"widget/strings.json ({language}) uses forbidden words: {hits}"

"""Tests for the FAQ knowledge base (knowledge_base/faq.yml) and its generator (scripts/build_kb.py).

No Rasa import: these run in a second. When `test_generated_files_in_sync` fails, run `make kb`.
"""
from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _import_build_kb():
    spec = importlib.util.spec_from_file_location("build_kb", ROOT / "scripts" / "build_kb.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_kb", module)
    spec.loader.exec_module(module)
    return module


build_kb = _import_build_kb()
LANGS = build_kb.LANGUAGES


@pytest.fixture(scope="module")
def raw():
    return build_kb.load(ROOT / build_kb.SOURCE)


@pytest.fixture(scope="module")
def entries(raw):
    return build_kb.validate(raw)


# --- the real knowledge base -------------------------------------------------------------------------


def test_generated_files_in_sync(entries):
    files = build_kb.render(entries)
    stale = build_kb.stale_files(files, ROOT)
    assert not stale, (
        "generated FAQ files are stale — run `make kb` (.venv/bin/python scripts/build_kb.py): " + ", ".join(stale)
    )


def test_render_is_deterministic(entries):
    assert build_kb.render(entries) == build_kb.render(copy.deepcopy(entries))


def test_generated_files_have_header_and_parse(entries):
    for path, text in build_kb.render(entries).items():
        assert text.startswith(build_kb.HEADER), path
        data = yaml.safe_load(text)
        assert data["version"] == "3.1", path


def test_chinese_is_written_as_characters(entries):
    files = build_kb.render(entries)
    zh_nlu = files[build_kb.NLU_PATHS["zh"]]
    assert entries[0]["questions"]["zh"][0] in zh_nlu
    assert "\\u" not in files[build_kb.DOMAIN_PATH]


def test_at_least_25_topics(entries):
    assert len(entries) >= 25


def test_expected_topics_present(entries):
    ids = {e["id"] for e in entries}
    expected = {
        "shipping_time", "shipping_fee", "international_shipping", "delivery_areas", "return_policy",
        "how_to_return", "refund_timeline", "exchange", "invoice", "payment_methods", "installments",
        "membership_tiers", "points", "coupons", "password_reset", "account_registration", "address_change",
        "service_hours", "contact_channels", "order_cancellation", "price_protection", "warranty_repair",
        "authenticity", "gift_wrapping", "damaged_item", "missing_item", "privacy_data", "elderly_care",
    }
    assert expected <= ids, f"missing topics: {sorted(expected - ids)}"


def test_every_entry_has_both_languages(entries):
    for e in entries:
        for lang in LANGS:
            assert e["title"][lang].strip(), (e["id"], "title", lang)
            assert e["answer"][lang].strip(), (e["id"], "answer", lang)
            assert len(e["questions"][lang]) >= build_kb.MIN_QUESTIONS, (e["id"], "questions", lang)
            assert len(e["test_questions"][lang]) >= 3, (e["id"], "test_questions", lang)


def test_held_out_questions_are_unseen(entries):
    for lang in LANGS:
        train = {build_kb.normalise(q) for e in entries for q in e["questions"][lang]}
        for e in entries:
            for q in e["test_questions"][lang]:
                assert build_kb.normalise(q) not in train, (e["id"], lang, q)


def test_generated_domain_has_conditional_variants(entries):
    domain = yaml.safe_load(build_kb.render(entries)[build_kb.DOMAIN_PATH])
    responses = domain["responses"]
    assert set(responses) == {f"utter_faq/{e['id']}" for e in entries}
    for e in entries:
        variants = responses[f"utter_faq/{e['id']}"]
        by_condition = {
            (v["condition"][0]["value"] if "condition" in v else None): v["text"] for v in variants
        }
        assert by_condition == {"zh": e["answer"]["zh"], "en": e["answer"]["en"], None: e["answer"]["en"]}
        for v in variants:
            if "condition" in v:
                assert v["condition"] == [{"type": "slot", "name": "language", "value": v["condition"][0]["value"]}]


def test_generated_rule(entries):
    rules = yaml.safe_load(build_kb.render(entries)[build_kb.RULES_PATH])["rules"]
    assert rules == [{"rule": "answer FAQ", "steps": [{"intent": "faq"}, {"action": "utter_faq"}]}]


def test_generated_nlu_matches_source(entries):
    files = build_kb.render(entries)
    for lang in LANGS:
        for path, field in ((build_kb.NLU_PATHS[lang], "questions"), (build_kb.TEST_PATHS[lang], "test_questions")):
            nlu = yaml.safe_load(files[path])["nlu"]
            assert [block["intent"] for block in nlu] == [f"faq/{e['id']}" for e in entries]
            for block, e in zip(nlu, entries):
                lines = [line[2:] for line in block["examples"].splitlines()]
                assert lines == e[field][lang], (path, e["id"])


def test_no_forbidden_words_in_answers(entries):
    path = ROOT / "bot" / "forbidden_words.yml"
    if not path.exists():
        pytest.skip("bot/forbidden_words.yml does not exist yet")
    words = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems = []
    for e in entries:
        for lang in LANGS:
            for field in ("answer", "title"):
                text = e[field][lang]
                # both lists against every text: answers mix languages (brand names, quoted commands)
                found = [w for wl in LANGS for w in build_kb.find_forbidden(text, wl, words.get(wl) or [])]
                if found:
                    problems.append(f"{e['id']} {field}.{lang}: {found}")
    assert not problems, "forbidden words in FAQ answers:\n" + "\n".join(problems)


def test_check_flag(tmp_path, entries):
    (tmp_path / "knowledge_base").mkdir()
    (tmp_path / build_kb.SOURCE).write_text((ROOT / build_kb.SOURCE).read_text(encoding="utf-8"), encoding="utf-8")
    assert build_kb.main(["--check", "--root", str(tmp_path)]) == 1  # nothing generated yet
    assert build_kb.main(["--root", str(tmp_path)]) == 0
    assert build_kb.main(["--check", "--root", str(tmp_path)]) == 0
    (tmp_path / build_kb.DOMAIN_PATH).write_text("edited by hand\n", encoding="utf-8")
    assert build_kb.main(["--check", "--root", str(tmp_path)]) == 1


# --- validation, table-driven with small in-memory entries -------------------------------------------


def _entry(faq_id="sample_topic", **overrides):
    entry = {
        "id": faq_id,
        "tags": ["sample"],
        "title": {"zh": "示例", "en": "Sample"},
        "questions": {
            "zh": [f"示例问题{i}" for i in range(8)],
            "en": [f"sample question {i}" for i in range(8)],
        },
        "test_questions": {"zh": ["另一个说法"], "en": ["another phrasing"]},
        "answer": {"zh": "这是答案。", "en": "This is the answer."},
    }
    entry.update(overrides)
    return entry


def _without(mapping, key):
    return {k: v for k, v in mapping.items() if k != key}


def _second_topic():
    return _entry(
        "second_topic",
        questions={"zh": [f"第二个问题{i}" for i in range(8)], "en": [f"second question {i}" for i in range(8)]},
        test_questions={"zh": ["第二个测试"], "en": ["second test"]},
    )


BAD_KNOWLEDGE_BASES = [
    pytest.param([_entry("dup"), _entry("dup")], "duplicate id 'dup'", id="duplicate-id"),
    pytest.param([_entry("Not-Snake")], "snake_case", id="id-not-snake-case"),
    pytest.param([_without(_entry("no_answer"), "answer")], "'no_answer'): missing key(s) answer", id="missing-key"),
    pytest.param([_entry("extra", note="x")], "unknown key(s) note", id="unknown-key"),
    pytest.param(
        [_entry("no_en_answer", answer={"zh": "答案"})], "'no_en_answer'): answer: missing language(s) en",
        id="answer-missing-en",
    ),
    pytest.param(
        [_entry("no_zh_title", title={"en": "Title"})], "'no_zh_title'): title: missing language(s) zh",
        id="title-missing-zh",
    ),
    pytest.param(
        [_entry("no_zh_questions", questions={"en": [f"q {i}" for i in range(8)]})],
        "'no_zh_questions'): questions: missing language(s) zh",
        id="questions-missing-zh",
    ),
    pytest.param(
        [_entry("too_few", questions={"zh": [f"问题{i}" for i in range(8)], "en": ["a", "b", "c"]})],
        "'too_few'): questions.en: has 3 question(s), needs at least 8",
        id="too-few-questions",
    ),
    pytest.param(
        [_entry("no_tests", test_questions={"zh": ["测试"], "en": []})],
        "'no_tests'): test_questions: missing language(s) en",
        id="test-questions-missing-en",
    ),
    pytest.param(
        [_entry("leaky", test_questions={"zh": ["示例问题3"], "en": ["another phrasing"]})],
        "'leaky'): test_questions.zh overlaps its own questions",
        id="held-out-overlaps-own-questions",
    ),
    pytest.param(
        [_entry("leaky_case", test_questions={"zh": ["另一个说法"], "en": ["Sample Question 2?"]})],
        "'leaky_case'): test_questions.en overlaps its own questions",
        id="held-out-overlap-ignores-case-and-punctuation",
    ),
    pytest.param(
        [_entry(), _entry("other_topic", test_questions={"zh": ["示例问题1"], "en": ["x test"]})],
        "'other_topic'): test_questions.zh overlaps the questions of entry #1 (id 'sample_topic')",
        id="held-out-overlaps-other-entry",
    ),
    pytest.param(
        [_entry(), _entry("copycat", test_questions={"zh": ["别的"], "en": ["other"]})],
        "'copycat'): question '示例问题0' is also a question of entry #1 (id 'sample_topic')",
        id="question-in-two-entries",
    ),
    pytest.param(
        [_entry("dup_q", questions={"zh": [f"问题{i % 7}" for i in range(8)], "en": [f"q {i}" for i in range(8)]})],
        "'dup_q'): questions.zh: duplicate question",
        id="duplicate-question",
    ),
    pytest.param(
        [_entry("swapped", answer={"zh": "This is English", "en": "这是中文"})],
        "'swapped'): answer.zh: the zh text has no Chinese characters",
        id="languages-swapped",
    ),
    pytest.param(
        [_entry("empty_answer", answer={"zh": "答案", "en": "   "})],
        "'empty_answer'): answer.en: must be a non-empty string",
        id="blank-answer",
    ),
    pytest.param(
        [_entry("entity", questions={"zh": [f"问题{i}" for i in range(7)] + ["订单[E1](order_id)"],
                                     "en": [f"q {i}" for i in range(8)]})],
        "'entity'): questions.zh[7]: looks like a Rasa entity annotation",
        id="entity-annotation",
    ),
    pytest.param([_entry(), "just a string"], "entry #2: must be a mapping", id="entry-not-mapping"),
    pytest.param({"faq": []}, "top level must be a list", id="top-level-not-list"),
    pytest.param([], "no entries", id="empty"),
]


@pytest.mark.parametrize("data, message", BAD_KNOWLEDGE_BASES)
def test_validation_rejects_bad_entries(data, message):
    with pytest.raises(build_kb.KbError) as excinfo:
        build_kb.validate(copy.deepcopy(data))
    assert message in str(excinfo.value), str(excinfo.value)


def test_validation_accepts_good_entries_and_strips_whitespace():
    good = [_entry(answer={"zh": "  答案：见下  ", "en": "Answer: see below "}), _second_topic()]
    clean = build_kb.validate(copy.deepcopy(good))
    assert [e["id"] for e in clean] == ["sample_topic", "second_topic"]
    assert clean[0]["answer"] == {"zh": "答案：见下", "en": "Answer: see below"}


def test_validation_reports_all_problems_at_once():
    data = [_entry("a", answer={"zh": "答案"}), _entry("b", title={"en": "t"})]
    with pytest.raises(build_kb.KbError) as excinfo:
        build_kb.validate(copy.deepcopy(data))
    text = str(excinfo.value)
    assert "'a'): answer: missing language(s) en" in text
    assert "'b'): title: missing language(s) zh" in text


def test_answers_with_colons_and_quotes_round_trip():
    tricky = _entry(answer={"zh": "时间：9:00–22:00，「设置 → 隐私」", "en": "Note: say 'stop' # not a comment: ok"})
    files = build_kb.render(build_kb.validate([tricky]))
    domain = yaml.safe_load(files[build_kb.DOMAIN_PATH])
    texts = [v["text"] for v in domain["responses"]["utter_faq/sample_topic"]]
    assert texts == [tricky["answer"]["zh"], tricky["answer"]["en"], tricky["answer"]["en"]]


def test_find_forbidden():
    assert build_kb.find_forbidden("我们无法处理", "zh", ["无法", "拒绝"]) == ["无法"]
    assert build_kb.find_forbidden("It failed, we can’t", "en", ["fail", "can't"]) == ["fail", "can't"]
    assert build_kb.find_forbidden("add it to the order notes", "en", ["not", "no"]) == []
    assert build_kb.find_forbidden("Not now", "en", ["not"]) == ["not"]

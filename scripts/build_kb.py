#!/usr/bin/env python3
"""Build the Rasa FAQ data from the knowledge base (knowledge_base/faq.yml).

    python scripts/build_kb.py           # validate and (re)write the generated files
    python scripts/build_kb.py --check   # validate; exit 1 listing stale files, write nothing

Generated (each starts with a "GENERATED ... do not edit" header):

    bot/domain/faq.yml          responses utter_faq/<id>: zh / en variants conditioned on slot `language`,
                                plus an unconditioned English default
    nlu_data/zh/faq.yml         retrieval intents faq/<id> with the zh training questions
    nlu_data/en/faq.yml         ... en training questions
    tests/nlu/test_faq_zh.yml   held-out test questions (zh)
    tests/nlu/test_faq_en.yml   held-out test questions (en)
    bot/data/rules/faq.yml      rule: intent faq -> action utter_faq

The module does no work at import: `load`, `validate` and `render` are pure functions (render returns
{relative path: file text}); `main` does the I/O.
"""
from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE = "knowledge_base/faq.yml"
HEADER = "# GENERATED from knowledge_base/faq.yml by scripts/build_kb.py — do not edit\n"

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "en"  # the unconditioned response variant
MIN_QUESTIONS = 8
MIN_TEST_QUESTIONS = 1

INTENT = "faq"
RESPONSE_PREFIX = "utter_faq"
LANGUAGE_SLOT = "language"

DOMAIN_PATH = "bot/domain/faq.yml"
RULES_PATH = "bot/data/rules/faq.yml"
NLU_PATHS = {lang: f"nlu_data/{lang}/faq.yml" for lang in LANGUAGES}
TEST_PATHS = {lang: f"tests/nlu/test_faq_{lang}.yml" for lang in LANGUAGES}

REQUIRED_KEYS = ("id", "title", "questions", "test_questions", "answer")
OPTIONAL_KEYS = ("tags",)
ID_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Rasa reads "[text](entity)" / "[text]{...}" inside examples as entity annotations.
ANNOTATION_RE = re.compile(r"\[[^\]]*\]\s*[({]")


class KbError(ValueError):
    """The knowledge base is invalid; `errors` lists every problem found (each names its entry)."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        super().__init__(
            f"knowledge base {SOURCE} is invalid ({len(self.errors)} problem(s)):\n"
            + "\n".join(f"  - {e}" for e in self.errors)
        )


# --------------------------------------------------------------------------------------------------
# load / validate
# --------------------------------------------------------------------------------------------------


def load(path: Path) -> Any:
    """Parse the knowledge-base YAML (no validation)."""
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except FileNotFoundError:
        raise KbError([f"{path} not found"]) from None
    except yaml.YAMLError as e:
        raise KbError([f"{path} is not valid YAML: {e}"]) from None


def normalise(text: str) -> str:
    """Comparison key for questions: case, whitespace and punctuation ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not unicodedata.category(ch)[0] in "PZ" and not ch.isspace())


def _label(index: int, entry: Any) -> str:
    if isinstance(entry, Mapping) and isinstance(entry.get("id"), str) and entry["id"]:
        return f"entry #{index + 1} (id '{entry['id']}')"
    return f"entry #{index + 1}"


def _check_text(errors: list[str], where: str, lang: str, value: Any, single_line: bool) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}: must be a non-empty string, got {value!r}")
        return None
    text = value.strip()
    if single_line and ("\n" in text or "\r" in text):
        errors.append(f"{where}: must be a single line: {text!r}")
        return None
    if lang == "zh" and not CJK_RE.search(text):
        errors.append(f"{where}: the zh text has no Chinese characters: {text!r}")
    if lang == "en" and CJK_RE.search(text):
        errors.append(f"{where}: the en text contains Chinese characters: {text!r}")
    return text


def _check_lang_map(errors: list[str], where: str, value: Any) -> Mapping | None:
    if not isinstance(value, Mapping):
        errors.append(f"{where}: must be a mapping with keys {', '.join(LANGUAGES)}, got {type(value).__name__}")
        return None
    missing = [lang for lang in LANGUAGES if lang not in value or value[lang] in (None, "", [])]
    extra = sorted(str(k) for k in value if k not in LANGUAGES)
    if missing:
        errors.append(f"{where}: missing language(s) {', '.join(missing)}")
    if extra:
        errors.append(f"{where}: unknown language key(s) {', '.join(extra)} (allowed: {', '.join(LANGUAGES)})")
    return value


def _check_questions(errors: list[str], where: str, value: Any, minimum: int) -> dict[str, list[str]]:
    """Returns {lang: [stripped questions]} for the languages that are usable."""
    result: dict[str, list[str]] = {}
    mapping = _check_lang_map(errors, where, value)
    if mapping is None:
        return result
    for lang in LANGUAGES:
        items = mapping.get(lang)
        if items in (None, "", []):
            continue  # reported as missing
        if not isinstance(items, list):
            errors.append(f"{where}.{lang}: must be a list of strings, got {type(items).__name__}")
            continue
        if len(items) < minimum:
            errors.append(f"{where}.{lang}: has {len(items)} question(s), needs at least {minimum}")
        seen: dict[str, str] = {}
        texts: list[str] = []
        for i, item in enumerate(items):
            text = _check_text(errors, f"{where}.{lang}[{i}]", lang, item, single_line=True)
            if text is None:
                continue
            if ANNOTATION_RE.search(text):
                errors.append(f"{where}.{lang}[{i}]: looks like a Rasa entity annotation: {text!r}")
            key = normalise(text)
            if key in seen:
                errors.append(f"{where}.{lang}: duplicate question {text!r} (same as {seen[key]!r})")
                continue
            seen[key] = text
            texts.append(text)
        result[lang] = texts
    return result


def validate(data: Any) -> list[dict[str, Any]]:
    """Check the parsed knowledge base; return clean entries (strings stripped) or raise KbError."""
    errors: list[str] = []
    if not isinstance(data, list):
        raise KbError([f"the top level must be a list of FAQ entries, got {type(data).__name__}"])
    if not data:
        raise KbError(["the knowledge base has no entries"])

    clean: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    # normalised question -> (label, field) over the whole file, to catch cross-entry overlap
    train_owner: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    test_owner: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}

    for index, entry in enumerate(data):
        label = _label(index, entry)
        if not isinstance(entry, Mapping):
            errors.append(f"{label}: must be a mapping, got {type(entry).__name__}")
            continue
        n_before = len(errors)
        missing = [k for k in REQUIRED_KEYS if k not in entry]
        unknown = sorted(str(k) for k in entry if k not in REQUIRED_KEYS + OPTIONAL_KEYS)
        if missing:
            errors.append(f"{label}: missing key(s) {', '.join(missing)}")
        if unknown:
            errors.append(
                f"{label}: unknown key(s) {', '.join(unknown)} "
                f"(allowed: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)})"
            )

        faq_id = entry.get("id")
        if "id" in entry:
            if not isinstance(faq_id, str) or not ID_RE.match(faq_id):
                errors.append(f"{label}: id must be snake_case (a-z, 0-9, _), got {faq_id!r}")
            elif faq_id in ids:
                errors.append(f"{label}: duplicate id '{faq_id}' (also {ids[faq_id]})")
            else:
                ids[faq_id] = label

        tags = entry.get("tags", [])
        if tags is None:
            tags = []
        if not isinstance(tags, list) or not all(isinstance(t, str) and ID_RE.match(t) for t in tags):
            errors.append(f"{label}: tags must be a list of snake_case strings, got {tags!r}")
            tags = []

        texts: dict[str, dict[str, str | None]] = {}
        for field in ("title", "answer"):
            texts[field] = {}
            if field not in entry:
                continue
            mapping = _check_lang_map(errors, f"{label}: {field}", entry[field])
            if mapping is None:
                continue
            for lang in LANGUAGES:
                if mapping.get(lang) not in (None, ""):
                    texts[field][lang] = _check_text(
                        errors, f"{label}: {field}.{lang}", lang, mapping[lang], single_line=(field == "title")
                    )

        questions: dict[str, list[str]] = {}
        test_questions: dict[str, list[str]] = {}
        if "questions" in entry:
            questions = _check_questions(errors, f"{label}: questions", entry["questions"], MIN_QUESTIONS)
        if "test_questions" in entry:
            test_questions = _check_questions(
                errors, f"{label}: test_questions", entry["test_questions"], MIN_TEST_QUESTIONS
            )

        for lang in LANGUAGES:
            for text in questions.get(lang, []):
                key = normalise(text)
                if key in train_owner[lang]:
                    errors.append(
                        f"{label}: question {text!r} is also a question of {train_owner[lang][key]}"
                    )
                else:
                    train_owner[lang][key] = label
            for text in test_questions.get(lang, []):
                key = normalise(text)
                if key in test_owner[lang]:
                    errors.append(
                        f"{label}: test question {text!r} is also a test question of {test_owner[lang][key]}"
                    )
                else:
                    test_owner[lang][key] = label

        if len(errors) == n_before:
            clean.append(
                {
                    "id": faq_id,
                    "tags": list(tags),
                    "title": dict(texts["title"]),
                    "questions": questions,
                    "test_questions": test_questions,
                    "answer": dict(texts["answer"]),
                }
            )

    # held-out questions must never be training questions (of this or any other entry)
    for lang in LANGUAGES:
        for key, label in test_owner[lang].items():
            if key in train_owner[lang]:
                owner = train_owner[lang][key]
                where = "its own questions" if owner == label else f"the questions of {owner}"
                errors.append(f"{label}: test_questions.{lang} overlaps {where} (held-out questions must be unseen)")

    if errors:
        raise KbError(errors)
    return clean


# --------------------------------------------------------------------------------------------------
# render
# --------------------------------------------------------------------------------------------------


class _Quoted(str):
    """A string always written in double quotes (e.g. version: "3.1")."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_quoted(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Quoted, _represent_quoted)


def dump_yaml(data: Any) -> str:
    """YAML text with the generated-file header: block style, UTF-8 characters, keys in insertion order."""
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        default_flow_style=False,
        sort_keys=False,
        width=1_000_000,
        indent=2,
    )
    if yaml.safe_load(body) != _plain(data):  # guard against any quoting surprise
        raise RuntimeError("generated YAML does not round-trip")
    return HEADER + body


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, str):
        return str(data)
    return data


def _examples(questions: Iterable[str]) -> str:
    return "".join(f"- {q}\n" for q in questions)


def _nlu(entries: Sequence[Mapping[str, Any]], field: str, lang: str) -> dict[str, Any]:
    return {
        "version": _Quoted("3.1"),
        "nlu": [
            {"intent": f"{INTENT}/{e['id']}", "examples": _examples(e[field][lang])} for e in entries
        ],
    }


def _condition(lang: str) -> list[dict[str, str]]:
    return [{"type": "slot", "name": LANGUAGE_SLOT, "value": lang}]


def render(entries: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Generated files for validated entries: {path relative to the repo root: text}. Order = source order."""
    responses: dict[str, Any] = {}
    for e in entries:
        variants: list[dict[str, Any]] = [
            {"condition": _condition(lang), "text": e["answer"][lang]} for lang in LANGUAGES
        ]
        variants.append({"text": e["answer"][DEFAULT_LANGUAGE]})
        responses[f"{RESPONSE_PREFIX}/{e['id']}"] = variants

    files: dict[str, str] = {
        DOMAIN_PATH: dump_yaml({"version": _Quoted("3.1"), "responses": responses}),
        RULES_PATH: dump_yaml(
            {
                "version": _Quoted("3.1"),
                "rules": [
                    {"rule": "answer FAQ", "steps": [{"intent": INTENT}, {"action": RESPONSE_PREFIX}]}
                ],
            }
        ),
    }
    for lang in LANGUAGES:
        files[NLU_PATHS[lang]] = dump_yaml(_nlu(entries, "questions", lang))
        files[TEST_PATHS[lang]] = dump_yaml(_nlu(entries, "test_questions", lang))
    return dict(sorted(files.items()))


def build(root: Path = REPO_ROOT) -> dict[str, str]:
    """load + validate + render the knowledge base under `root`."""
    return render(validate(load(root / SOURCE)))


def stale_files(files: Mapping[str, str], root: Path = REPO_ROOT) -> list[str]:
    """Paths whose file on disk is missing or differs from the generated text."""
    stale = []
    for rel, text in files.items():
        path = root / rel
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != text:
            stale.append(rel)
    return stale


def find_forbidden(text: str, lang: str, words: Iterable[str]) -> list[str]:
    """Forbidden words found in `text`.

    zh: plain substring match. en: case-insensitive whole-word match (curly apostrophes normalised); words of
    four or more letters also match their common inflections, so "fail" finds "failed" and "failure".
    """
    found = []
    if lang == "en":
        text = text.replace("\u2019", "'").lower()
    for word in words:
        if not isinstance(word, str) or not word.strip():
            continue
        word = word.strip()
        if lang == "en":
            w = word.replace("\u2019", "'").lower()
            # words of 4+ letters also match common inflections (fail -> failed, failure; refuse -> refused)
            suffix = r"(?:s|es|d|ed|ing|ly|ure|ures)?" if len(w) >= 4 else ""
            if re.search(r"(?<![a-z'])" + re.escape(w) + suffix + r"(?![a-z'])", text):
                found.append(word)
        elif word in text:
            found.append(word)
    return found


# --------------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale; write nothing")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root (default: %(default)s)")
    args = parser.parse_args(argv)

    try:
        entries = validate(load(args.root / SOURCE))
    except KbError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    files = render(entries)
    stale = stale_files(files, args.root)

    if args.check:
        if stale:
            print(
                "knowledge base: generated files are stale (run `make kb`):\n"
                + "\n".join(f"  {p}" for p in stale),
                file=sys.stderr,
            )
            return 1
        print(f"knowledge base: {len(entries)} topics, generated files up to date")
        return 0

    for rel in stale:
        path = args.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(files[rel])
    print(
        f"knowledge base: {len(entries)} topics; "
        + (f"wrote {', '.join(stale)}" if stale else "generated files already up to date")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

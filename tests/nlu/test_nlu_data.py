"""Sanity checks for the NLU training data and the held-out NLU test set.

Plain Python + PyYAML, no rasa import, so it runs fast and without a model.

Checks:
- no held-out test example (entity markup and whitespace removed, case-folded) also appears in the training data
  (training includes generated ``nlu_data/*/faq.yml`` files when present);
- every non-faq intent has at least MIN_TEST_PER_INTENT test examples in zh and in en;
- every ``order_id`` annotation matches ``[Ee]?20\\d{9}``;
- every ``rating`` annotation is 1-5 as a digit, a Chinese numeral (一..五) or an English word (one..five);
- no training example is labelled with two different intents.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAIN_DIR = REPO_ROOT / "nlu_data"
TEST_DIR = REPO_ROOT / "tests" / "nlu"

INTENTS = [
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_capabilities",
    "bot_challenge",
    "order_status",
    "change_address",
    "request_refund",
    "complain",
    "request_human",
    "inform",
    "rate_service",
    "personalization_off",
    "personalization_on",
    "out_of_scope",
]
MIN_TEST_PER_INTENT = 20

ORDER_ID_RE = re.compile(r"[Ee]?20\d{9}")
RATING_VALUES = {"1", "2", "3", "4", "5", "一", "二", "三", "四", "五", "one", "two", "three", "four", "five"}

# [text](entity) / [text](entity:value) / [text](entity=value)  and  [text]{"entity": "...", ...}
ENTITY_PAREN_RE = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
ENTITY_JSON_RE = re.compile(r"\[([^\]]+)\]\{([^}]+)\}")
ENTITY_JSON_NAME_RE = re.compile(r"[\"']entity[\"']\s*:\s*[\"']([^\"']+)[\"']")
WHITESPACE_RE = re.compile(r"\s+")

Example = tuple[str, str, str]  # (intent, raw example text, file path relative to repo root)


def _yaml_files(directory: Path, pattern: str) -> list[Path]:
    return sorted(p for p in directory.glob(pattern) if p.is_file())


def training_files() -> list[Path]:
    return _yaml_files(TRAIN_DIR, "**/*.yml") + _yaml_files(TRAIN_DIR, "**/*.yaml")


def held_out_files() -> list[Path]:
    return _yaml_files(TEST_DIR, "test_*.yml") + _yaml_files(TEST_DIR, "test_*.yaml")


def _split_examples(block: object) -> Iterator[str]:
    if isinstance(block, list):  # "examples:" given as a list of {text: ...} maps
        for item in block:
            text = item.get("text") if isinstance(item, dict) else item
            if isinstance(text, str) and text.strip():
                yield text.strip()
        return
    if not isinstance(block, str):
        return
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("- "):
            line = line[2:]
        elif line == "-":
            continue
        if line.strip():
            yield line.strip()


def load_examples(path: Path) -> list[Example]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rel = str(path.relative_to(REPO_ROOT))
    out: list[Example] = []
    for entry in data.get("nlu") or []:
        if not isinstance(entry, dict) or "intent" not in entry:
            continue  # regex / lookup / synonym entries
        for text in _split_examples(entry.get("examples")):
            out.append((str(entry["intent"]), text, rel))
    return out


def entities(text: str) -> list[tuple[str, str]]:
    """(entity name, annotated surface text) pairs of one example."""
    found = []
    for value, spec in ENTITY_PAREN_RE.findall(text):
        name = re.split(r"[:=]", spec, maxsplit=1)[0].strip()
        found.append((name, value))
    for value, spec in ENTITY_JSON_RE.findall(text):
        match = ENTITY_JSON_NAME_RE.search("{" + spec + "}")
        if match:
            found.append((match.group(1), value))
    return found


def plain_text(text: str) -> str:
    text = ENTITY_PAREN_RE.sub(r"\1", text)
    text = ENTITY_JSON_RE.sub(r"\1", text)
    return text


def normalise(text: str) -> str:
    return WHITESPACE_RE.sub("", plain_text(text)).casefold()


def base_intent(intent: str) -> str:
    return intent.split("/", 1)[0]


@pytest.fixture(scope="module")
def train_examples() -> list[Example]:
    examples = [ex for path in training_files() for ex in load_examples(path)]
    assert examples, f"no training examples found under {TRAIN_DIR}"
    return examples


@pytest.fixture(scope="module")
def held_out_examples() -> list[Example]:
    examples = [ex for path in held_out_files() for ex in load_examples(path)]
    assert examples, f"no test examples found under {TEST_DIR}"
    return examples


def test_required_files_exist() -> None:
    for lang in ("zh", "en"):
        for topic in ("basics", "orders", "care", "feedback", "privacy"):
            assert (TRAIN_DIR / lang / f"{topic}.yml").is_file(), f"missing nlu_data/{lang}/{topic}.yml"
    assert (TRAIN_DIR / "mixed" / "mixed.yml").is_file()
    for lang in ("zh", "en", "mixed"):
        assert (TEST_DIR / f"test_nlu_{lang}.yml").is_file(), f"missing tests/nlu/test_nlu_{lang}.yml"


def test_no_test_example_in_training(train_examples: list[Example], held_out_examples: list[Example]) -> None:
    seen: dict[str, Example] = {}
    for ex in train_examples:
        seen.setdefault(normalise(ex[1]), ex)
    leaks = [
        f"{path}: {text!r} ({intent}) == {seen[normalise(text)][2]}: {seen[normalise(text)][1]!r}"
        for intent, text, path in held_out_examples
        if normalise(text) in seen
    ]
    assert not leaks, "held-out examples also in training data:\n" + "\n".join(leaks)


def test_no_duplicates_within_test_set(held_out_examples: list[Example]) -> None:
    counts = Counter(normalise(text) for _, text, _ in held_out_examples)
    dupes = sorted(text for text, n in counts.items() if n > 1)
    assert not dupes, f"duplicated test examples: {dupes}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_enough_test_examples_per_intent(lang: str) -> None:
    path = TEST_DIR / f"test_nlu_{lang}.yml"
    counts = Counter(base_intent(intent) for intent, _, _ in load_examples(path))
    too_few = {i: counts.get(i, 0) for i in INTENTS if counts.get(i, 0) < MIN_TEST_PER_INTENT}
    assert not too_few, f"{path.name}: intents with < {MIN_TEST_PER_INTENT} test examples: {too_few}"


def test_every_intent_has_training_data(train_examples: list[Example]) -> None:
    by_lang: dict[str, Counter] = defaultdict(Counter)
    for intent, _, path in train_examples:
        parts = Path(path).parts
        by_lang[parts[1] if len(parts) > 2 else "?"][base_intent(intent)] += 1
    for lang in ("zh", "en", "mixed"):
        missing = [i for i in INTENTS if by_lang[lang][i] == 0]
        assert not missing, f"nlu_data/{lang}: no training examples for {missing}"


def test_no_conflicting_training_labels(train_examples: list[Example]) -> None:
    labels: dict[str, set] = defaultdict(set)
    for intent, text, _ in train_examples:
        labels[normalise(text)].add(intent)
    conflicts = {text: sorted(intents) for text, intents in labels.items() if len(intents) > 1}
    assert not conflicts, f"training examples with more than one intent: {conflicts}"


def _all_annotations(examples: list[Example], entity: str) -> list[tuple[str, str, str]]:
    return [(value, text, path) for _, text, path in examples for name, value in entities(text) if name == entity]


def test_order_id_annotations(train_examples: list[Example], held_out_examples: list[Example]) -> None:
    annotations = _all_annotations(train_examples + held_out_examples, "order_id")
    assert annotations, "no order_id annotations found"
    bad = [f"{path}: {text!r}" for value, text, path in annotations if not ORDER_ID_RE.fullmatch(value)]
    assert not bad, "order_id annotations not matching [Ee]?20\\d{9}:\n" + "\n".join(bad)


def test_rating_annotations(train_examples: list[Example], held_out_examples: list[Example]) -> None:
    annotations = _all_annotations(train_examples + held_out_examples, "rating")
    assert annotations, "no rating annotations found"
    bad = [f"{path}: {text!r}" for value, text, path in annotations if value.strip().casefold() not in RATING_VALUES]
    assert not bad, "rating annotations that are not 1-5:\n" + "\n".join(bad)


def test_entities_only_on_expected_intents(train_examples: list[Example], held_out_examples: list[Example]) -> None:
    allowed = {
        "order_id": {"order_status", "change_address", "inform", "request_refund", "complain", "ticket_status",
                     # everyday shop requests about one order (bot/domain/shop.yml)
                     "cancel_order", "wrong_item", "payment_issue", "invoice_request", "change_order"},
        "rating": {"rate_service"},
    }
    bad = [
        f"{path}: {text!r} ({intent})"
        for intent, text, path in train_examples + held_out_examples
        for name, _ in entities(text)
        if name in allowed and base_intent(intent) not in allowed[name]
    ]
    assert not bad, "entity annotations on unexpected intents:\n" + "\n".join(bad)

"""The held-out NLU test set (never trained on) against the trained model: intent macro-F1 >= 0.95.

Runs on ``models/assistant.tar.gz`` (``scripts/train.sh``). Also checks that order numbers are
extracted and that FAQ questions reach the right answer. A per-intent report is written to
``results/nlu/report.json``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "assistant.tar.gz"
TEST_DIR = ROOT / "tests" / "nlu"
MACRO_F1_TARGET = 0.95
FAQ_ACCURACY_TARGET = 0.85
_ENTITY = re.compile(r"\[([^\]]+)\]\((\w+)\)")

pytestmark = pytest.mark.model


def load_examples() -> list[dict[str, Any]]:
    examples = []
    for path in sorted(TEST_DIR.glob("test_*.yml")):
        language = path.stem.rsplit("_", 1)[-1]
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            intent = block.get("intent")
            if not intent:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if not line.startswith("- "):
                    continue
                raw = line[2:].strip()
                examples.append(
                    {
                        "text": _ENTITY.sub(r"\1", raw),
                        "intent": intent,
                        "entities": [(v, e) for v, e in _ENTITY.findall(raw)],
                        "language": language,
                    }
                )
    return examples


def macro_f1(pairs: list[tuple[str, str]]) -> tuple[float, dict[str, dict[str, float]]]:
    labels = sorted({gold for gold, _ in pairs})
    report = {}
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return sum(r["f1"] for r in report.values()) / len(report), report


@pytest.fixture(scope="module")
def predictions() -> list[dict[str, Any]]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run scripts/train.sh (make train) first")
    from rasa.core.agent import Agent

    examples = load_examples()

    async def run() -> list[dict[str, Any]]:
        agent = Agent.load(str(MODEL))
        out = []
        for example in examples:
            parsed = await agent.parse_message(example["text"])
            out.append({**example, "parsed": parsed})
        return out

    return asyncio.run(run())


def test_test_set_is_large_enough() -> None:
    counts = Counter((e["intent"].split("/")[0], e["language"]) for e in load_examples())
    for (intent, language), count in counts.items():
        if language in ("zh", "en") and intent != "faq":
            assert count >= 20, f"{intent}/{language} has only {count} test examples"


def test_intent_macro_f1(predictions: list[dict[str, Any]]) -> None:
    pairs = [(p["intent"].split("/")[0], p["parsed"]["intent"]["name"]) for p in predictions]
    score, report = macro_f1(pairs)
    by_language = {}
    for language in sorted({p["language"] for p in predictions}):
        by_language[language] = macro_f1(
            [(p["intent"].split("/")[0], p["parsed"]["intent"]["name"]) for p in predictions if p["language"] == language]
        )[0]
    errors = [
        {"text": p["text"], "expected": p["intent"], "predicted": p["parsed"]["intent"]["name"]}
        for p in predictions
        if p["intent"].split("/")[0] != p["parsed"]["intent"]["name"]
    ]
    out = ROOT / "results" / "nlu"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(
            {"macro_f1": score, "by_language": by_language, "intents": report, "errors": errors},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"\nintent macro-F1 {score:.3f} ({len(pairs)} examples); by language {by_language}")
    assert score >= MACRO_F1_TARGET, f"macro-F1 {score:.3f} < {MACRO_F1_TARGET}; errors: {errors[:15]}"
    for language, value in by_language.items():
        assert value >= MACRO_F1_TARGET, f"{language}: macro-F1 {value:.3f} < {MACRO_F1_TARGET}"


def test_faq_questions_reach_the_right_answer(predictions: list[dict[str, Any]]) -> None:
    faq = [p for p in predictions if p["intent"].startswith("faq/")]
    assert faq
    hits = 0
    misses = []
    for p in faq:
        selected = (p["parsed"].get("response_selector", {}).get("faq", {}).get("response", {}) or {}).get(
            "intent_response_key"
        )
        if p["parsed"]["intent"]["name"] == "faq" and selected == p["intent"]:
            hits += 1
        else:
            misses.append((p["text"], p["intent"], selected))
    accuracy = hits / len(faq)
    print(f"\nFAQ answer accuracy {accuracy:.3f} ({len(faq)} questions)")
    assert accuracy >= FAQ_ACCURACY_TARGET, f"FAQ accuracy {accuracy:.3f}; misses: {misses[:10]}"


def test_order_numbers_are_extracted(predictions: list[dict[str, Any]]) -> None:
    expected = [p for p in predictions if any(e == "order_id" for _, e in p["entities"])]
    assert expected
    found = defaultdict(int)
    for p in expected:
        values = {e["value"].upper().lstrip("E") for e in p["parsed"]["entities"] if e["entity"] == "order_id"}
        gold = {v.upper().lstrip("E") for v, e in p["entities"] if e == "order_id"}
        found[gold <= values] += 1
    assert found[False] == 0, f"{found[False]} of {len(expected)} order numbers missed"

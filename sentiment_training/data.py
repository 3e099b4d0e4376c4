"""Training and validation examples for the multi-task sentiment/emotion model.

Every example carries a polarity (negative / neutral / positive) and the two routing emotions
(anger, anxiety), each possibly unknown (-1): review corpora only say positive or negative,
emotion corpora say more. The loss ignores unknown targets, so one model learns from all of them.

Sources (all from ``../shared/datasets``, see each folder's README for origin and licence):
ChnSentiCorp, online_shopping_10_cats (zh reviews), SST-2 (en sentences), SMP2020-EWECT virus
(zh Weibo, 6 emotions), GoEmotions (en Reddit, 28 emotions), plus the project's own
customer-service messages (``data/cs_emotions_train.jsonl``) and the assistant's calm NLU
examples. The held-out customer-service test set in ``tests/sentiment`` is never read here.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLARITY = ("negative", "neutral", "positive")
LABELS = (*POLARITY, "anger", "anxiety")
UNKNOWN = -1

GOEMO_POSITIVE = {"admiration", "amusement", "approval", "caring", "desire", "excitement", "gratitude", "joy",
                  "love", "optimism", "pride", "relief"}
GOEMO_NEGATIVE = {"anger", "annoyance", "disappointment", "disapproval", "disgust", "embarrassment", "fear",
                  "grief", "nervousness", "remorse", "sadness"}
GOEMO_ANGER = {"anger", "annoyance"}
GOEMO_ANXIETY = {"nervousness", "fear"}
EWECT_POLARITY = {"neutral": 1, "happy": 2, "angry": 0, "sad": 0, "fear": 0}


@dataclass(frozen=True)
class Example:
    text: str
    polarity: int
    anger: int
    anxiety: int
    source: str


def read_jsonl(path: Path, split: str | None = None) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [r for r in rows if split is None or r.get("split") == split]


def _binary(rows: list[dict], source: str) -> list[Example]:
    return [Example(r["text"], 0 if r["label"] == "negative" else 2, UNKNOWN, UNKNOWN, source) for r in rows]


def _ewect(rows: list[dict]) -> list[Example]:
    return [
        Example(r["text"], EWECT_POLARITY.get(r["label"], UNKNOWN), int(r["label"] == "angry"),
                int(r["label"] == "fear"), "ewect")
        for r in rows
    ]


def _goemotions(rows: list[dict]) -> list[Example]:
    out = []
    for r in rows:
        labels = set(r["label"])
        positive, negative = bool(labels & GOEMO_POSITIVE), bool(labels & GOEMO_NEGATIVE)
        if labels == {"neutral"}:
            polarity = 1
        elif positive != negative:
            polarity = 2 if positive else 0
        else:
            polarity = UNKNOWN
        out.append(Example(r["text"], polarity, int(bool(labels & GOEMO_ANGER)), int(bool(labels & GOEMO_ANXIETY)),
                           "goemotions"))
    return out


def customer_service() -> list[Example]:
    rows = read_jsonl(HERE / "data" / "cs_emotions_train.jsonl")
    return [
        Example(r["text"], POLARITY.index(r["polarity"]), int(r["emotion"] == "anger"),
                int(r["emotion"] == "anxiety"), "cs")
        for r in rows
    ]


def calm_requests() -> list[Example]:
    """The assistant's own FAQ and order examples: ordinary questions, no anger or anxiety."""
    out = []
    for path in sorted((ROOT / "nlu_data").glob("*/*.yml")):
        if path.stem not in ("faq", "orders"):
            continue
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text and "急" not in text and "[" not in text:
                    out.append(Example(text, 1, 0, 0, "nlu"))
    return out


def training_set(datasets: Path, seed: int = 13, shopping: int = 12000, goemotions: int = 16000,
                 cs_repeat: int = 3) -> list[Example]:
    rng = random.Random(seed)
    shop = read_jsonl(datasets / "online_shopping_10_cats" / "data.jsonl", "train")
    goemo = read_jsonl(datasets / "goemotions" / "data.jsonl", "train")
    examples = [
        *_binary(read_jsonl(datasets / "chnsenticorp" / "data.jsonl", "train"), "chnsenticorp"),
        *_binary(rng.sample(shop, min(shopping, len(shop))), "shopping"),
        *_binary(read_jsonl(datasets / "sst2" / "data.jsonl", "train"), "sst2"),
        *_ewect(read_jsonl(datasets / "smp2020_ewect_virus" / "data.jsonl", "train")),
        *_goemotions(rng.sample(goemo, min(goemotions, len(goemo)))),
        *calm_requests(),
    ]
    if cs_repeat:
        examples += customer_service() * cs_repeat
    rng.shuffle(examples)
    return examples


def validation_sets(datasets: Path) -> dict[str, list[dict]]:
    """Validation splits used to fit the ensemble weights and thresholds (never the test splits)."""
    return {
        "chnsenticorp": read_jsonl(datasets / "chnsenticorp" / "data.jsonl", "validation"),
        "sst2": read_jsonl(datasets / "sst2" / "data.jsonl", "validation"),
        "ewect": read_jsonl(datasets / "smp2020_ewect_virus" / "data.jsonl", "validation"),
    }

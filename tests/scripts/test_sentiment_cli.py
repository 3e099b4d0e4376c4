"""``scripts/sentiment.py``: JSON lines in, one scored JSON line out per input line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from scripts.sentiment import score
from sentiment.lexicon import LexiconAnalyzer

ROOT = Path(__file__).resolve().parents[2]


def test_every_input_line_gets_an_answer_in_order():
    lines = ['{"text": "气死我了，太差了", "id": 1}\n', "not json\n", '{"text": 5}\n', "\n", '["x"]\n',
             '{"text": "thanks, great help", "id": 2}\n']
    out = io.StringIO()
    failures = score(lines, out, LexiconAnalyzer(), batch_size=2)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert failures == 3 and len(rows) == 5  # the blank line is skipped
    assert rows[0]["id"] == 1 and rows[0]["label"] == "negative" and rows[0]["emotion"] == "anger"
    assert set(rows[0]["emotions"]) == {"anger", "anxiety"}
    assert [set(r) for r in rows[1:4]] == [{"error"}] * 3
    assert rows[4]["id"] == 2 and rows[4]["label"] == "positive"


def test_the_command_uses_the_bots_analyzer():
    messages = ["急死了，明天就要用，快递还没到", "谢谢，已经收到了", "Where can I download my invoice?"]
    stdin = "".join(json.dumps({"text": m}, ensure_ascii=False) + "\n" for m in messages)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("SENTIMENT_BACKEND", None)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "sentiment.py")], input=stdin, text=True,
                          capture_output=True, env=env, timeout=300, check=True)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in rows] == messages
    assert rows[0]["emotion"] == "anxiety" and rows[0]["label"] == "negative"
    assert rows[1]["label"] == "positive" and rows[2]["emotion"] == "none"

"""Score messages in bulk with the bot's own sentiment analyzer (for transcript analysis).

    .venv/bin/python scripts/sentiment.py < messages.jsonl > scored.jsonl

Reads JSON lines ``{"text": ...}`` (other keys are passed through) from standard input and writes
one JSON line per input line, in order: ``label`` (negative/neutral/positive), ``score`` (-1..1),
``emotions`` (anger, anxiety in 0..1) and ``emotion`` (the dominant one or ``none``). A line that
is not a JSON object with a string ``text`` gets ``{"error": ...}`` instead, so line N of the
output always answers line N of the input. ``SENTIMENT_BACKEND`` / ``SENTIMENT_MODEL`` choose the
analyzer exactly as for the bot.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_line(line: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg}"
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return None, 'expected an object with a string "text"'
    return record, None


def score(lines: Iterable[str], out: TextIO, analyzer: Any, batch_size: int = 64) -> int:
    """Write one JSON line per input line; returns the number of lines that were not scored."""
    pending: list[tuple[dict[str, Any] | None, str | None]] = []
    failures = 0

    def flush() -> None:
        records = [r for r, _ in pending if r is not None]
        results = iter(analyzer.analyze_many([r["text"] for r in records]) if records else [])
        for record, error in pending:
            if record is None:
                out.write(json.dumps({"error": error}, ensure_ascii=False) + "\n")
                continue
            result = next(results)
            out.write(json.dumps({**record, "label": result.label, "score": result.score,
                                  "emotions": result.emotions, "emotion": result.emotion}, ensure_ascii=False) + "\n")
        out.flush()
        pending.clear()

    for line in lines:
        if not line.strip():
            continue
        parsed = parse_line(line)
        failures += parsed[0] is None
        pending.append(parsed)
        if len(pending) >= batch_size:
            flush()
    flush()
    return failures


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from actions import providers
    from sentiment import SentimentAnalyzer

    analyzer: SentimentAnalyzer = providers.sentiment_analyzer()
    failures = score(sys.stdin, sys.stdout, analyzer)
    if failures:
        print(f"{failures} line(s) could not be scored (see their error field)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

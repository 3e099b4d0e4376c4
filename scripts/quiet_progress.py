"""Show a clean progress view of a noisy command and keep its full output in a log file.

    <command> 2>&1 | python scripts/quiet_progress.py logs/train.log

Every byte goes to the log. The terminal gets the rest less the library noise: Python warnings
(``path:line: SomeWarning: ...`` and the source line printed under them), TensorFlow/absl start-up
chatter and pkg_resources / SQLAlchemy deprecation notes. Progress bars (lines ended by a carriage
return) pass through as they come. Nothing is dropped from the log.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

WARNING = re.compile(r"^\S.*:\d+: \w*(Warning|Deprecated)\w*: ")
NOISE = re.compile(
    r"(DeprecationWarning|PendingDeprecationWarning|FutureWarning|MovedIn20Warning|SAWarning|"
    r"pkg_resources|declare_namespace|tensorflow/|TensorFlow binary is optimized|oneDNN custom operations|"
    r"absl::|I0000 |W0000 |warnings\.warn\()"
)


class Filter:
    """Decides line by line what the terminal shows (pure: no I/O)."""

    def __init__(self) -> None:
        self._in_warning = False

    def shows(self, line: str) -> bool:
        if WARNING.match(line):
            self._in_warning = True
            return False
        if self._in_warning and (line.startswith((" ", "\t")) or not line.strip()):
            return False  # the source line Python prints under a warning
        self._in_warning = False
        return not NOISE.search(line)


def pieces(stream: IO[str]) -> Iterator[str]:
    """The stream cut after each newline or carriage return (progress bars redraw with ``\\r``)."""
    buffer = ""
    while chunk := stream.read(1):
        buffer += chunk
        if chunk in "\r\n":
            yield buffer
            buffer = ""
    if buffer:
        yield buffer


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: <command> 2>&1 | python scripts/quiet_progress.py LOGFILE", file=sys.stderr)
        return 2
    log_path = Path(argv[0])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    keep = Filter()
    sys.stdin.reconfigure(newline="", errors="replace")  # type: ignore[union-attr]  # keep the \r of progress bars
    with log_path.open("w", encoding="utf-8", newline="") as log:
        for piece in pieces(sys.stdin):
            log.write(piece)
            if keep.shows(piece.rstrip("\r\n")):
                sys.stdout.write(piece)
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

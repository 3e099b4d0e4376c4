"""Secrets of the embedded default: the Rasa API token and the action server's shared secret.

``eval "$(.venv/bin/python scripts/local_secrets.py)"`` (in ``scripts/run.sh``) prints ``export``
lines for ``RASA_AUTH_TOKEN`` and ``ACTION_SERVER_TOKEN``. A value already set in the environment
(or ``.env``) is kept; a missing one is generated once into ``var/local_secrets.env`` (mode 0600)
and reused on later runs, so a console or script started by hand can read the same file.
Production sets both variables itself (``common.settings`` refuses to start without them).
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.settings import get_settings  # noqa: E402

FILE = ROOT / "var" / "local_secrets.env"


def _stored(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def ensure(path: Path = FILE) -> dict[str, str]:
    settings = get_settings()
    stored = _stored(path)
    values = {
        "RASA_AUTH_TOKEN": settings.rasa_token or stored.get("RASA_AUTH_TOKEN") or secrets.token_urlsafe(32),
        "ACTION_SERVER_TOKEN": settings.action_server_token or stored.get("ACTION_SERVER_TOKEN")
        or secrets.token_urlsafe(32),
    }
    if {k: stored.get(k) for k in values} != values:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.writelines(f"{key}={value}\n" for key, value in values.items())
    return values


def main() -> None:
    for key, value in ensure().items():
        print(f"export {key}={shlex.quote(value)}")


if __name__ == "__main__":
    main()

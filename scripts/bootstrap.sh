#!/usr/bin/env bash
# Create .venv with Python 3.10 (Rasa 3.6 needs < 3.11) and install the pinned dependencies.
# Re-running is cheap: nothing is installed again unless requirements changed.
set -euo pipefail
cd "$(dirname "$0")/.."

want_dev="${1:-}"
find_python() {
  if [ -n "${PYTHON310:-}" ] && [ -x "$PYTHON310" ]; then echo "$PYTHON310"; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    local candidate
    candidate="$(pyenv root)/versions/3.10.13/bin/python"
    [ -x "$candidate" ] && { echo "$candidate"; return; }
    candidate=$(ls -d "$(pyenv root)"/versions/3.10.*/bin/python 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return; }
  fi
  for name in python3.10 python3 python; do
    if command -v "$name" >/dev/null 2>&1 && "$name" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
      command -v "$name"; return
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  if ! PY=$(find_python); then
    cat >&2 <<'MSG'
error: Python 3.10 was not found.
  Rasa 3.6 runs on Python 3.8-3.10 only. Install Python 3.10 and run this again, e.g.
    pyenv install 3.10.13            (pyenv)
    apt-get install python3.10-venv  (Debian/Ubuntu with python3.10 available)
  or point PYTHON310 at a python3.10 executable:  PYTHON310=/path/to/python3.10 make run
MSG
    exit 1
  fi
  echo "==> creating .venv with $PY ($("$PY" --version))"
  "$PY" -m venv .venv
fi

stamp=.venv/.installed
level=runtime reqs=requirements.txt
[ "$want_dev" = "--dev" ] && level=dev reqs=requirements-dev.txt
sum=$(cat requirements.txt requirements-dev.txt constraints.txt | sha256sum | cut -c1-16)
read -r have_sum have_level 2>/dev/null < "$stamp" || true
if [ "${have_sum:-}" = "$sum" ] && { [ "${have_level:-}" = dev ] || [ "$level" = runtime ]; }; then
  exit 0
fi
echo "==> installing $reqs into .venv (first run takes a few minutes)"
.venv/bin/python -m pip install --disable-pip-version-check -q --upgrade "pip==24.0" wheel
if ! .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off -r "$reqs" -c constraints.txt 2>&1 \
    | tee .venv/install.log | { grep --line-buffered -E "^(Collecting|Successfully installed)" | cut -c1-100 || true; }; then
  tail -20 .venv/install.log >&2
  echo "error: installing $reqs failed (full log: .venv/install.log)" >&2
  exit 1
fi
echo "$sum $level" > "$stamp"

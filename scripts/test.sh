#!/usr/bin/env bash
# The one command that runs every test on a fresh machine: venv, model (trained only when data
# changed), then one pytest session: unit tests, data validation, conversation tests (rasa test),
# the held-out NLU test set, and integration tests against real Rasa + action servers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --dev
scripts/system_deps.sh
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false  # no network calls from a support bot
export TF_CPP_MIN_LOG_LEVEL=3
export TOKENIZERS_PARALLELISM=false  # the sentiment tokenizer runs before servers fork
.venv/bin/python scripts/build_kb.py --check || {
  echo "error: generated FAQ files are stale; run 'make kb' and commit the result" >&2; exit 1; }
scripts/train.sh
exec .venv/bin/python -m pytest "$@"

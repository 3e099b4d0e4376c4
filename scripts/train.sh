#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed (a fingerprint of config, domain, data, components).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false  # no network calls from a support bot
test -f knowledge_base/faq.yml
fingerprint=$( (cat config.yml; find bot/domain bot/data nlu_data bot/components knowledge_base -type f \
  \( -name '*.yml' -o -name '*.py' -o -name '*.txt' \) | sort | xargs cat; cat requirements.txt) | sha256sum | cut -c1-16)
model=models/assistant.tar.gz
if [ -f "$model" ] && [ "$(cat models/.fingerprint 2>/dev/null)" = "$fingerprint" ]; then
  echo "==> model is up to date ($model)"
  exit 0
fi
echo "==> training the model (its inputs changed; about a minute on 2 cores, progress below, full log: logs/train.log)"
mkdir -p models logs
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
# the terminal shows progress without the libraries' deprecation walls; logs/train.log keeps every line
.venv/bin/rasa train --config config.yml --domain bot/domain --data bot/data nlu_data \
  --out models --fixed-model-name assistant 2>&1 | .venv/bin/python scripts/quiet_progress.py logs/train.log
echo "$fingerprint" > models/.fingerprint

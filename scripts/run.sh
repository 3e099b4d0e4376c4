#!/usr/bin/env bash
# The one command that runs the assistant on the embedded default (SQLite, in-process stores).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
[ -f .env ] && { set -a; . ./.env; set +a; }
# the Rasa API token and the action server's secret: from the environment, else made once in var/
eval "$(.venv/bin/python scripts/local_secrets.py)"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false  # no network calls from a support bot
export RASA_PORT="${RASA_PORT:-5005}" ACTION_PORT="${ACTION_PORT:-5055}" CONSOLE_PORT="${CONSOLE_PORT:-8000}"
# the HTTP API needs RASA_AUTH_TOKEN; in this embedded default it also listens on this machine only
export RASA_INTERFACE="${RASA_INTERFACE:-127.0.0.1}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:${ACTION_PORT}/webhook}"
export TRACKER_DB="${TRACKER_DB:-var/tracker.db}"
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore
export TOKENIZERS_PARALLELISM=false  # the sentiment tokenizer runs in the Rasa server
mkdir -p var logs
scripts/train.sh
echo "==> preparing the database (demo customers are loaded on first run)"
.venv/bin/python scripts/seed_demo.py

# scripts/supervise.py keeps the three servers and the proactive-care scheduler (desk/care.py) running, as compose's restart policy does in production:
# a server that stops is restarted with backoff (1 s, 2 s, 4 s ... 30 s) and a line in logs/supervise.log,
# while the others keep running. Ctrl-C stops them all.
.venv/bin/python -m desk.console.users seed-demo >/dev/null
q() { printf '%q ' "$@"; }
echo "==> starting the action server on :$ACTION_PORT, the Rasa server on :$RASA_PORT and the agent console"
echo "    and web chat on :$CONSOLE_PORT (logs: logs/actions.log, logs/rasa.log, logs/console.log)"
.venv/bin/python scripts/supervise.py --log-dir logs \
  "actions=$(q .venv/bin/python -m actions.server --actions actions --port "$ACTION_PORT")" \
  "rasa=$(q .venv/bin/rasa run --model models/assistant.tar.gz --endpoints "${RASA_ENDPOINTS:-bot/endpoints.yml}" \
    --credentials bot/credentials.yml --interface "$RASA_INTERFACE" --port "$RASA_PORT" --enable-api \
    --auth-token "$RASA_AUTH_TOKEN")" \
  "console=$(q .venv/bin/python -m desk.console)" \
  "care=$(q .venv/bin/python -m desk.care)" &
supervisor=$!
stop() { kill -TERM "$supervisor" 2>/dev/null || true; wait "$supervisor" 2>/dev/null || true; }
trap stop EXIT INT TERM
.venv/bin/python scripts/wait_ready.py "http://127.0.0.1:$RASA_PORT/status?token=$RASA_AUTH_TOKEN" "http://127.0.0.1:$ACTION_PORT/health" \
  "http://127.0.0.1:$CONSOLE_PORT/health" --pids "$supervisor"
cat <<MSG

The assistant is running.
  Talk to it (REST channel; the sender id picks the customer, e.g. demo-vip-zh, or any new id for a guest):
    curl -s localhost:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
         -d '{"sender": "demo-vip-zh", "message": "我的订单到哪了"}'
  Or chat in the terminal:   .venv/bin/python scripts/chat.py --sender demo-vip-zh
  Demo shop with the chat widget:  http://127.0.0.1:$CONSOLE_PORT/demo/shop
  Agent console:                   http://127.0.0.1:$CONSOLE_PORT/  (development users: see desk/console/README.md)
  A server that stops is started again (logs/supervise.log says when and why). Press Ctrl-C to stop.
MSG
wait "$supervisor"

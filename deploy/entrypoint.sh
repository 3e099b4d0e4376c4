#!/usr/bin/env bash
# One entrypoint for the production images (docker-compose.yml); the first argument picks the process:
#   migrate   alembic upgrade head on DATABASE_URL (the console starts only after it succeeded)
#   rasa      the Rasa server; RASA_ENDPOINTS picks the endpoints file (production: bot/endpoints.production.yml)
#   actions   the action server
#   console   the agent console + web chat widget (desk/console)
#   retention the transcript retention job, every RETENTION_INTERVAL_S (default daily; desk/retention.py);
#             it also writes the weekly report of the last complete week once (desk/weekly_report.py)
#   care      the proactive-care scheduler, a round every CARE_INTERVAL_S (desk/care.py)
# The embedded default (make run) does not use this file: it keeps SQLite and in-process stores.
set -euo pipefail
cd /app
export PYTHONPATH=/app RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3
role="${1:-}"
shift || true
case "$role" in
  migrate)
    exec alembic upgrade head
    ;;
  rasa)
    exec rasa run --model models/assistant.tar.gz --endpoints "${RASA_ENDPOINTS:-bot/endpoints.yml}" \
      --credentials bot/credentials.yml --interface 0.0.0.0 --port "${RASA_PORT:-5005}" \
      --enable-api --auth-token "${RASA_AUTH_TOKEN:?RASA_AUTH_TOKEN must be set}" "$@"
    ;;
  actions)
    exec python -m actions.server --actions actions --port "${ACTION_PORT:-5055}" "$@"  # X-Action-Token check
    ;;
  console)
    exec python -m desk.console "$@"
    ;;
  retention)
    while true; do  # a failed run is logged and retried next interval; the health check sees the gap
      python -m desk.retention "$@" && touch /tmp/retention.ok
      sleep "${RETENTION_INTERVAL_S:-86400}"
    done
    ;;
  care)
    exec python -m desk.care --health-file /tmp/care.ok "$@"
    ;;
  *)
    echo "usage: deploy/entrypoint.sh migrate|rasa|actions|console|retention|care [args]" >&2
    exit 2
    ;;
esac

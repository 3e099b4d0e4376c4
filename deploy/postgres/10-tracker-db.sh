#!/usr/bin/env bash
# Run once by the postgres image on an empty volume: the tracker database (Rasa's events, checkpoints,
# event archive) next to the application database (POSTGRES_DB, migrated by alembic), same owner.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -c "CREATE DATABASE \"${TRACKER_POSTGRES_DB:?}\" OWNER \"$POSTGRES_USER\""

#!/usr/bin/env bash
# Throwaway services for tests and local runs. Nothing is persisted; stop with Ctrl-C (or kill the pid).
#   scripts/services.sh redis [PORT]   run redis-server in the foreground on 127.0.0.1:PORT (default: a free port)
#                                      and print REDIS_URL first; install with `apt-get install -y redis-server`.
#   scripts/services.sh postgres [PORT] a throwaway PostgreSQL cluster in a temporary directory on 127.0.0.1:PORT
#                                      (trust auth, loopback only), prints DATABASE_URL first; as root it runs as
#                                      the `postgres` user (initdb refuses root); `apt-get install -y postgresql`.
set -euo pipefail
service="${1:-}"
case "$service" in
  redis)
    if ! command -v redis-server >/dev/null 2>&1; then
      echo "redis-server is not installed: apt-get install -y redis-server (Debian/Ubuntu) or brew install redis" >&2
      exit 127
    fi
    port="${2:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
    echo "REDIS_URL=redis://127.0.0.1:${port}/0"
    exec redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --protected-mode yes \
      --loglevel warning --daemonize no
    ;;
  postgres)
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1 && bindir=$(dirname "$(readlink -f "$(command -v initdb)")")
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
      echo "PostgreSQL is not installed: apt-get install -y postgresql (Debian/Ubuntu) or brew install postgresql" >&2
      exit 127
    fi
    port="${2:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
    dir=$(mktemp -d /tmp/pg-service-XXXXXX)
    as=()
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; as=(runuser -u postgres --); fi
    trap 'rm -rf "$dir"' EXIT
    "${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
    echo "DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:${port}/postgres"
    "${as[@]}" "$bindir/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 -c fsync=off &
    pg=$!
    # postgres may still be writing while it shuts down: retry the removal of its directory
    trap 'kill "$pg" 2>/dev/null || true; wait "$pg" 2>/dev/null || true
          for _ in 1 2 3 4 5 6 7 8 9 10; do rm -rf "$dir" 2>/dev/null || true; [ -e "$dir" ] || break; sleep 0.5; done' \
      EXIT INT TERM
    wait "$pg" || true
    ;;
  *)
    echo "usage: scripts/services.sh redis|postgres [PORT]" >&2
    exit 2
    ;;
esac

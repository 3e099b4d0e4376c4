#!/usr/bin/env bash
# Throwaway services for tests and local runs. Nothing is persisted; stop with Ctrl-C (or kill the pid).
#   scripts/services.sh redis [PORT]   run redis-server in the foreground on 127.0.0.1:PORT (default: a free port)
#                                      and print REDIS_URL first; install with `apt-get install -y redis-server`.
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
  *)
    echo "usage: scripts/services.sh redis [PORT]" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# The production set-up on one machine: Prefect server on PostgreSQL, a process work pool, N workers,
# the deployments, the project's database on PostgreSQL (migrated at start) and, optionally, the web app.
#
#   deploy/production.sh start     # create databases if missing, start what is not running, migrate, deploy
#   deploy/production.sh status    # processes, server health, workers online
#   deploy/production.sh stop      # stop everything it started (process groups and their children)
#
# Safe to run `start` again: running processes are left alone, migrations and deployments are idempotent.
# Settings (environment; defaults in brackets):
#   PG_URL                    PostgreSQL server for both databases [postgresql://postgres@127.0.0.1:5432]
#   PREFECT_DB / PROJECT_DB   database names [activation_prefect / activation]
#   ACTIVATION_DATABASE_URL   the project's database [$PG_URL/$PROJECT_DB]
#   PREFECT_SERVER_DATABASE_CONNECTION_URL   Prefect's database [postgresql+asyncpg://…/$PREFECT_DB]
#   PREFECT_PORT [4200]  WORKERS [2]  WORKER_LIMIT (runs per worker) [4]  POOL [activation]
#   INTERVAL [60]  STAGE_INTERVAL [$INTERVAL]  SWEEP_INTERVAL [300]  FLOW_LIMIT [2]  (`activation deploy --help`)
#   WEB [0] (1: also `activation serve --no-flows`)  WEB_PORT [8000]  WEB_HOST [127.0.0.1]
#   RUN_DIR (PIDs, logs, Prefect home) [./run/production]  PYTHON [.venv/bin/python, else python3]
#   ACTIVATION_CONFIG_DIR (rules)  PREFECT_WORKER_QUERY_SECONDS (worker polling) [10]
#   PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS (how often schedules make runs) [60]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PG_URL="${PG_URL:-postgresql://postgres@127.0.0.1:5432}"
PG_URL="${PG_URL%/}"
PREFECT_DB="${PREFECT_DB:-activation_prefect}"
PROJECT_DB="${PROJECT_DB:-activation}"
export ACTIVATION_DATABASE_URL="${ACTIVATION_DATABASE_URL:-$PG_URL/$PROJECT_DB}"
PG_HOSTPART="${PG_URL#*://}"
export PREFECT_SERVER_DATABASE_CONNECTION_URL="${PREFECT_SERVER_DATABASE_CONNECTION_URL:-postgresql+asyncpg://$PG_HOSTPART/$PREFECT_DB}"
PREFECT_PORT="${PREFECT_PORT:-4200}"
WORKERS="${WORKERS:-2}"
WORKER_LIMIT="${WORKER_LIMIT:-4}"
POOL="${POOL:-activation}"
INTERVAL="${INTERVAL:-60}"
SWEEP_INTERVAL="${SWEEP_INTERVAL:-300}"
STAGE_INTERVAL="${STAGE_INTERVAL:-$INTERVAL}"
FLOW_LIMIT="${FLOW_LIMIT:-2}"
WEB="${WEB:-0}"
WEB_PORT="${WEB_PORT:-8000}"
WEB_HOST="${WEB_HOST:-127.0.0.1}"
RUN_DIR="${RUN_DIR:-$ROOT/run/production}"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON="python3"; fi
fi

export PREFECT_API_URL="http://127.0.0.1:$PREFECT_PORT/api"
export PREFECT_UI_API_URL="$PREFECT_API_URL"
export PREFECT_HOME="$RUN_DIR/prefect"
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
# Deployment concurrency leases on disk, not in the server's memory: a restarted server keeps them.
export PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE="${PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE:-prefect.server.concurrency.lease_storage.filesystem}"
export PREFECT_LOGGING_LEVEL="${PREFECT_LOGGING_LEVEL:-INFO}"

say() { printf 'production: %s\n' "$*" >&2; }

alive() { # alive NAME: its PID file names a live process
  local f="$RUN_DIR/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

launch() { # launch NAME COMMAND...: own session (process group), output to NAME.log, PID to NAME.pid
  local name="$1"; shift
  if alive "$name"; then
    say "$name already running (pid $(cat "$RUN_DIR/$name.pid"))"
    return
  fi
  setsid "$@" >>"$RUN_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN_DIR/$name.pid"
  say "$name started (pid $!, log $RUN_DIR/$name.log)"
}

descendants() { # descendants PID: every process below PID
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

halt() { # halt NAME: TERM its process group and every descendant (flow runs have sessions of their own)
  local f="$RUN_DIR/$1.pid" pid pids i
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    pids="$pid"
    kill -TERM -- "-$pid" 2>/dev/null || true
    for i in $(seq 1 40); do
      # A worker may still start a run while it stops: look for new children until it is gone.
      pids="$pids $(descendants "$pid" | tr '\n' ' ')"
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null || true
      # shellcheck disable=SC2086
      kill -0 $pids 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    say "$1 stopped (pid $pid)"
  fi
  rm -f "$f"
}

ensure_databases() {
  "$PYTHON" - "$ACTIVATION_DATABASE_URL" "$PREFECT_SERVER_DATABASE_CONNECTION_URL" <<'EOF'
import re
import sys

import psycopg
from sqlalchemy.engine import make_url

for n, raw in enumerate(sys.argv[1:]):
    url = make_url(raw)
    if not url.drivername.startswith("postgresql"):
        continue
    if not re.fullmatch(r"[A-Za-z0-9_]{1,63}", url.database or ""):
        sys.exit(f"production: database name {url.database!r}: use letters, digits and _ only")
    params = {"host": url.host or "127.0.0.1", "port": url.port or 5432, "user": url.username, "password": url.password}
    params = {k: v for k, v in params.items() if v is not None}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{url.database}"')
            print(f"production: created database {url.database}", file=sys.stderr)
    if n == 1:  # Prefect's database needs pg_trgm
        with psycopg.connect(dbname=url.database, autocommit=True, **params) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
EOF
}

wait_healthy() { # wait until the Prefect API answers /health (the first start migrates its database)
  local i
  for i in $(seq 1 240); do
    if ! alive server; then
      say "the Prefect server exited; last lines of $RUN_DIR/server.log:"
      tail -n 30 "$RUN_DIR/server.log" >&2 || true
      return 1
    fi
    if curl -fsS -m 2 "$PREFECT_API_URL/health" >/dev/null 2>&1; then
      say "Prefect server healthy at $PREFECT_API_URL (UI http://127.0.0.1:$PREFECT_PORT)"
      return 0
    fi
    sleep 1
  done
  say "the Prefect server did not answer within 240 s"
  return 1
}

start() {
  ensure_databases
  launch server "$PYTHON" -m prefect server start --host 127.0.0.1 --port "$PREFECT_PORT"
  wait_healthy
  # The project's database: Alembic migrations, then the rules are checked.
  "$PYTHON" -m cli init
  "$PYTHON" -m cli deploy --pool "$POOL" --interval "$INTERVAL" --sweep-interval "$SWEEP_INTERVAL" \
    --stage-interval "$STAGE_INTERVAL" --flow-limit "$FLOW_LIMIT"
  local k
  for k in $(seq 1 "$WORKERS"); do
    launch "worker-$k" "$PYTHON" -m prefect worker start --pool "$POOL" --type process --name "worker-$k" \
      --limit "$WORKER_LIMIT"
  done
  if [ "$WEB" = "1" ]; then
    launch web "$PYTHON" -m cli serve --no-flows --port "$PREFECT_PORT" --host "$WEB_HOST" \
      --web-port "$WEB_PORT"
  fi
  say "running; stop with: $0 stop   (RUN_DIR=$RUN_DIR)"
}

stop() {
  local f name
  for f in "$RUN_DIR"/web.pid "$RUN_DIR"/worker-*.pid "$RUN_DIR"/server.pid; do
    [ -f "$f" ] || continue
    name="$(basename "$f" .pid)"
    halt "$name"
  done
}

status() {
  local f name
  for f in "$RUN_DIR"/*.pid; do
    [ -f "$f" ] || continue
    name="$(basename "$f" .pid)"
    if alive "$name"; then echo "$name: running (pid $(cat "$f"))"; else echo "$name: not running"; fi
  done
  if curl -fsS -m 2 "$PREFECT_API_URL/health" >/dev/null 2>&1; then
    echo "prefect api: healthy ($PREFECT_API_URL)"
    curl -fsS -m 5 -X POST -H 'Content-Type: application/json' -d '{}' \
      "$PREFECT_API_URL/work_pools/$POOL/workers/filter" |
      "$PYTHON" -c 'import json,sys; print("workers:", ", ".join(w["name"] + " " + w["status"] for w in json.load(sys.stdin)) or "none")'
  else
    echo "prefect api: not answering ($PREFECT_API_URL)"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac

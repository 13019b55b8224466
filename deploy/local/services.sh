#!/usr/bin/env bash
# Starts or stops jobstream's services in the background for `make run` / `make stop`, with a log
# and pid file each under RUN_DIR. Start waits until every service has joined its consumer group.
#
# Each serves /metrics, /health and /ready on its own port: METRICS_PORT_BASE + its place in SERVICES
# (9101, 9102, … by default).
#
# Environment: SERVICES (names), BIN (folder of the executables), RUN_DIR, KAFKA_BROKERS, DASHBOARD_PORT,
# METRICS_PORT_BASE.
set -euo pipefail
: "${SERVICES:?}" "${BIN:?}" "${RUN_DIR:?}"
mkdir -p "$RUN_DIR"

running() { [ -f "$RUN_DIR/$1.pid" ] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

metrics_port() {
  local index=1
  for name in $SERVICES; do
    [ "$name" = "$1" ] && { echo $((${METRICS_PORT_BASE:-9100} + index)); return; }
    index=$((index + 1))
  done
}

start() {
  for service in $SERVICES; do
    if running "$service"; then echo "$service: already running (pid $(cat "$RUN_DIR/$service.pid"))"; continue; fi
    # Short group timeouts: a member that dies is replaced within seconds on a development broker.
    if [ "$service" = dashboard ]; then
      # The operator token (for Cancel) is made once per run folder and readable by its owner only.
      local token_file="$RUN_DIR/dashboard-operator-token"
      [ -s "$token_file" ] || (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$token_file")
      JOBSTREAM_DASHBOARD_OPERATOR_TOKEN="$(cat "$token_file")" nohup "$BIN/$service" -X session.timeout.ms=6000 \
        --metrics-port "$(metrics_port "$service")" --port "${DASHBOARD_PORT:-8080}" >"$RUN_DIR/$service.log" 2>&1 &
    else
      nohup "$BIN/$service" -X session.timeout.ms=6000 --metrics-port "$(metrics_port "$service")" \
        >"$RUN_DIR/$service.log" 2>&1 &
    fi
    echo $! >"$RUN_DIR/$service.pid"
  done
  local deadline=$((SECONDS + 90))
  for service in $SERVICES; do
    until grep -q "partitions assigned" "$RUN_DIR/$service.log" 2>/dev/null; do
      if ! running "$service"; then
        echo "$service: exited; last lines of $RUN_DIR/$service.log:" >&2
        tail -20 "$RUN_DIR/$service.log" >&2
        exit 1
      fi
      if [ $SECONDS -gt $deadline ]; then echo "$service: did not join its group within 90 s" >&2; exit 1; fi
      sleep 0.5
    done
    echo "$service: running (pid $(cat "$RUN_DIR/$service.pid")), joined its group; log $RUN_DIR/$service.log;" \
      "metrics http://127.0.0.1:$(metrics_port "$service")/metrics"
  done
}

stop() {
  for service in $SERVICES; do
    if running "$service"; then
      kill -TERM "$(cat "$RUN_DIR/$service.pid")"
    fi
  done
  for service in $SERVICES; do
    for _ in $(seq 1 100); do running "$service" || break; sleep 0.1; done
    if running "$service"; then
      echo "$service: did not stop within 10 s; killing it" >&2
      kill -KILL "$(cat "$RUN_DIR/$service.pid")"
    fi
    [ -f "$RUN_DIR/$service.pid" ] && echo "$service: stopped"
    rm -f "$RUN_DIR/$service.pid"
  done
}

case "${1:-}" in
  metrics-port) metrics_port "$2" ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

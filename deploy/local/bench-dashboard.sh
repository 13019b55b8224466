#!/usr/bin/env bash
# `make bench-dashboard`: a dashboard starting on status topics holding SESSIONS sync sessions,
# BACKFILLS backfills and MIGRATIONS migrations — how fast it reads them (status events/s, from start
# to the last one on its board) and its peak memory — then the latency of its busiest pages and API
# calls under load from wrk (4 connections, DURATION seconds each), every figure from this one run.
#
# Usage: bench-dashboard.sh RELEASE_BIN_DIR. Environment: SESSIONS (100000), BACKFILLS (1000),
# MIGRATIONS (100), DURATION (10).
set -euo pipefail
bin=$1
sessions=${SESSIONS:-100000}
backfills=${BACKFILLS:-1000}
migrations=${MIGRATIONS:-100}
duration=${DURATION:-10}
work=$PWD/.local/bench-dashboard
rm -rf "$work" && mkdir -p "$work"
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
export JOBSTREAM_STORE=$work/store.sqlite JOBSTREAM_FILE_STORE=$work/files
source deploy/local/bench-lib.sh
trap stop_services EXIT
command -v wrk >/dev/null || { echo "installing wrk"; apt-get update -q && apt-get install -y -q wrk; }

restart_broker
echo "== publishing $sessions sync sessions, $backfills backfills and $migrations migrations"
.local/venv/bin/python deploy/local/bench/publish_status.py "$KAFKA_BROKERS" "$sessions" "$backfills" "$migrations"
events=$((sessions + backfills + migrations))

echo "== starting the dashboard on them"
start=$(now)
"$bin/dashboard" --port 0 -X session.timeout.ms=6000 >"$work/dashboard.log" 2>&1 &
pids+=($!)
until url=$(grep -o 'dashboard listening on http://[^ ]*' "$work/dashboard.log" | awk '{print $4}') && [ -n "$url" ]; do sleep 0.1; done
# One poller, every 20 ms, until both lists are whole: a check costs a few milliseconds, where a
# Python process per check cost a tenth of a second of a start-up of about two.
python3 - "$url" "$sessions" "$backfills" <<'PY' || { echo "the dashboard did not read every status event" >&2; exit 1; }
import json, sys, time, urllib.request as u
url, sessions, backfills = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    if json.load(u.urlopen(url + "/api/sync?limit=1"))["matching"] == sessions and \
            len(json.load(u.urlopen(url + "/api/backfills"))["backfills"]) == backfills:
        sys.exit(0)
    time.sleep(0.02)
sys.exit(1)
PY
end=$(now)
loaded_memory=$(peak_mb "${pids[0]}")
awk -v n="$events" -v s="$start" -v e="$end" -v m="$loaded_memory" 'BEGIN {
  printf "RESULT start-up: %d status events on the board %.1f s after start = %.0f events/s (process start included); peak %s MB\n", n, e - s, n / (e - s), m }'
summary "dashboard start-up, events/s" "$(awk -v n="$events" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')" ">=" 50000

load() {  # load LABEL PATH [AIM_MS]: wrk against one address; prints requests/s and latency percentiles
  local label=$1 path=$2 aim=${3:-}
  wrk -t1 -c4 -d"${duration}s" --latency "$url$path" >"$work/wrk-$label.txt"
  if [ -n "$aim" ]; then  # wrk writes 812.00us, 53.80ms or 1.20s
    summary "dashboard $label p50, ms" "$(awk '/^ +50%/ { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
      printf "%.2f", v * (u == "us" ? 0.001 : u == "s" ? 1000 : 1) }' "$work/wrk-$label.txt")" "<" "$aim"
  fi
  awk -v label="$label" -v path="$path" '
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "RESULT %-22s %-52s %8.0f requests/s  p50 %-8s p99 %-8s%s\n", label, path, rps, p50, p99, bad ? "  NON-2xx: " bad : "" }' \
    "$work/wrk-$label.txt"
}
load "sync page" "/sync"
load "sync page, filtered" "/sync?from=2026-11-01&to=2026-11-07&operation=Manual" 10
load "sync API, filtered" "/api/sync?from=2026-11-01&to=2026-11-07&operation=Manual&limit=100"
load "backfill logs page" "/backfills"
load "backfill API, one job" "/api/backfills/bench-backfill-00042"
load "migration logs page" "/migrations"
echo "RESULT dashboard peak after the load: $(peak_mb "${pids[0]}") MB"

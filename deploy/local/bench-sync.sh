#!/usr/bin/env bash
# `make bench-sync`: record outcomes/s of the sync-history recorder — one recorder on SQLite, two on
# PostgreSQL — catching up on a backlog the simulator published beforehand, against the ceiling
# measured in the same run (the same batches recorded straight into the same store by one process,
# without Kafka); then the filtered Sync History query over 1,000,000 sessions.
#
# Usage: bench-sync.sh RELEASE_BIN_DIR. Environment: SESSIONS (100), RECORDS (10000 per session),
# QUERY_SESSIONS (1000000; 0 skips the query), STORES ("sqlite postgres"), PG_URL.
set -euo pipefail
bin=$1
sessions=${SESSIONS:-100}
records=${RECORDS:-10000}
query_sessions=${QUERY_SESSIONS:-1000000}
work=$PWD/.local/bench-sync
rm -rf "$work" && mkdir -p "$work"
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
source deploy/local/bench-lib.sh
trap stop_services EXIT

# record LABEL RECORDERS: publishes the backlog, then starts RECORDERS recorders on it (reading from the
# start of the topic) and waits until every session ended; sets `seconds` (first recorder joined →
# all ended), `outcomes` and `memory` (first recorder's peak, MB).
record() {
  local label=$1 recorders=$2 prefix="bench-$1-$$" start end i
  "$bin/sync-bench" clear
  echo "== $label: publishing $sessions sessions × $records records (1% failing)"
  "$bin/jobstream" sync simulate --sessions "$sessions" --records "$records" --failure-rate 0.01 --prefix "$prefix" >/dev/null
  for i in $(seq 1 "$recorders"); do
    join_group sync-history-recorder "$work/recorder-$label-$i.log" -X auto.offset.reset=earliest
    [ "$i" = 1 ] && start=$(now)
  done
  outcomes=$("$bin/sync-bench" wait --prefix "$prefix" --sessions "$sessions")
  end=$(now)
  memory=$(peak_mb "${pids[0]}")
  stop_services
  seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')
}

for kind in ${STORES:-sqlite postgres}; do
  if [ "$kind" = postgres ]; then
    export JOBSTREAM_STORE=${PG_URL:?PG_URL is needed for the PostgreSQL runs}
    recorders=2
  else
    export JOBSTREAM_STORE=$work/store.sqlite
    recorders=1
  fi
  restart_broker
  "$bin/sync-bench" clear
  ceiling_line=$("$bin/sync-bench" ceiling --sessions "$sessions" --records "$records")
  echo "   $ceiling_line"
  ceiling=$(echo "$ceiling_line" | sed -E 's/.* = ([0-9]+) outcomes\/s.*/\1/')
  record "$kind" "$recorders"
  awk -v k="$kind" -v n="$recorders" -v o="$outcomes" -v t="$seconds" -v c="$ceiling" -v m="$memory" 'BEGIN {
    rate = o / t; printf "RESULT %s, %d recorder(s): %d record outcomes recorded in %.1f s = %.0f outcomes/s = %.2f of the ceiling (%s outcomes/s); recorder peak %s MB\n", k, n, o, t, rate, rate / c, c, m }'
  summary "sync recorder / ceiling, $kind, $recorders recorder(s)" \
    "$(awk -v o="$outcomes" -v t="$seconds" -v c="$ceiling" 'BEGIN { printf "%.2f", o / t / c }')" ">=" 0.9
  [ "$query_sessions" -gt 0 ] || continue
  echo "== $kind: the Sync History query"
  "$bin/sync-bench" clear
  "$bin/sync-bench" query --sessions "$query_sessions" | sed 's/^/RESULT /'
done

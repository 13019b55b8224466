#!/usr/bin/env bash
# `make bench-migration`: a migration of 1,000,000 charges from start to Completed with one runner
# and with two, on SQLite and on PostgreSQL, against the ceiling measured in the same run (the same
# schedules generated straight into the same store by one process, without Kafka). Every run starts
# from an empty revenue_schedules table, so each one inserts the same rows.
#
# Usage: bench-migration.sh RELEASE_BIN_DIR. Environment: CHARGES (1000000), STORES ("sqlite postgres"),
# PG_URL, CUTOVER (2025-01-01).
set -euo pipefail
bin=$1
charges=${CHARGES:-1000000}
stores=${STORES-sqlite postgres}
cutover=${CUTOVER:-2025-01-01}
work=$PWD/.local/bench-migration
rm -rf "$work" && mkdir -p "$work"
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
pids=()

run=0
join_group() {  # join_group LOG: starts a runner and waits until it has partitions
  local log=$1
  : >"$log"
  # A new group per run, starting at the end of its topics: earlier runs' messages are not replayed,
  # and no join waits on the departed members of an earlier run (the broker can stall on those).
  "$bin/migration-runner" --group "bench-migration-runner-$$-$run" -X auto.offset.reset=latest \
    -X session.timeout.ms=6000 -X max.poll.interval.ms=30000 >"$log" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + 90))
  until grep -q "partitions assigned" "$log"; do
    [ $SECONDS -lt $deadline ] || { echo "migration-runner did not join its group" >&2; tail "$log" >&2; exit 1; }
    sleep 0.2
  done
}
stop_services() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
  run=$((run + 1))
}
trap stop_services EXIT
now() { date +%s.%N; }
peak_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

# run_migration LABEL RUNNERS: starts RUNNERS runners, starts a migration, waits for its end, stops
# them; sets `seconds` (start → Completed), `schedules` and `memory` (first runner's peak, MB).
run_migration() {
  local label=$1 runners=$2 start end migration i
  "$bin/migration-bench" clear
  for i in $(seq 1 "$runners"); do join_group "$work/runner-$label-$i.log"; done
  sleep 1
  start=$(now)
  migration=$("$bin/jobstream" migration start --cutover "$cutover" --generated-by bench)
  "$bin/jobstream" migration wait "$migration" --timeout 3600 | tail -1 | sed 's/^/   /'
  end=$(now)
  memory=$(peak_mb "${pids[0]}")
  schedules=$("$bin/jobstream" migration show "$migration" | awk -F': *' '/^Schedules Generated/ {print $2}')
  "$bin/jobstream" migration show "$migration" | grep '^Slices By' | sed 's/^/   /'
  stop_services
  seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')
}

echo "== restarting the broker (it keeps everything in memory)"
deploy/local/broker.sh stop >/dev/null 2>&1 || true
deploy/local/broker.sh start
"$bin/jobstream" topics create >/dev/null

for kind in $stores; do
  if [ "$kind" = postgres ]; then
    export JOBSTREAM_STORE=${PG_URL:?PG_URL is needed for the PostgreSQL runs}
  else
    export JOBSTREAM_STORE=$work/store.sqlite
  fi
  echo
  echo "== $kind: seeding $charges charges, every one with a booking date"
  "$bin/jobstream" store seed --charges "$charges" --invoice-items 0
  "$bin/migration-bench" clear
  case $kind in
    postgres) psql "$JOBSTREAM_STORE" -qc "UPDATE rate_plan_charges SET booking_date = created_on WHERE booking_date IS NULL; VACUUM ANALYZE rate_plan_charges" ;;
    *) "$PWD/.local/venv/bin/python" -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('UPDATE rate_plan_charges SET booking_date = created_on WHERE booking_date IS NULL'); c.commit()" "$JOBSTREAM_STORE" ;;
  esac
  echo "== $kind: ceiling (one process, no Kafka)"
  ceiling_line=$("$bin/migration-bench" ceiling --cutover "$cutover")
  echo "   $ceiling_line"
  ceiling=$(echo "$ceiling_line" | sed -E 's/.* = ([0-9]+) schedules\/s.*/\1/')
  for runners in 1 2; do
    run_migration "$kind-$runners" "$runners"
    awk -v k="$kind" -v n="$runners" -v s="$schedules" -v t="$seconds" -v c="$ceiling" -v m="$memory" 'BEGIN {
      rate = s / t; printf "RESULT %s, %d runner(s): %d schedules start→Completed in %.1f s = %.0f schedules/s = %.2f of the ceiling (%s schedules/s); runner peak %s MB\n", k, n, s, t, rate, rate / c, c, m }'
  done
done

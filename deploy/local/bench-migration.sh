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
source deploy/local/bench-lib.sh
trap stop_services EXIT

# run_migration LABEL RUNNERS: starts RUNNERS runners, starts a migration, waits for its end, stops
# them; sets `seconds` (start → Completed), `schedules` and `memory` (first runner's peak, MB).
run_migration() {
  local label=$1 runners=$2 start end migration i
  "$bin/migration-bench" clear
  for i in $(seq 1 "$runners"); do join_group migration-runner "$work/runner-$label-$i.log"; done
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

restart_broker

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
    postgres) psql "$JOBSTREAM_STORE" -q -c "UPDATE rate_plan_charges SET booking_date = created_on WHERE booking_date IS NULL" -c "VACUUM ANALYZE rate_plan_charges" ;;
    *) "$PWD/.local/venv/bin/python" -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('UPDATE rate_plan_charges SET booking_date = created_on WHERE booking_date IS NULL'); c.commit()" "$JOBSTREAM_STORE" ;;
  esac
  echo "== $kind: ceiling (one process, no Kafka)"
  ceiling_line=$("$bin/migration-bench" ceiling --cutover "$cutover")
  echo "   $ceiling_line"
  ceiling=$(echo "$ceiling_line" | sed -E 's/.* = ([0-9]+) schedules\/s.*/\1/')
  for runners in ${RUNNERS:-1 2}; do
    run_migration "$kind-$runners" "$runners"
    awk -v k="$kind" -v n="$runners" -v s="$schedules" -v t="$seconds" -v c="$ceiling" -v m="$memory" 'BEGIN {
      rate = s / t; printf "RESULT %s, %d runner(s): %d schedules start→Completed in %.1f s = %.0f schedules/s = %.2f of the ceiling (%s schedules/s); runner peak %s MB\n", k, n, s, t, rate, rate / c, c, m }'
    if [ "$runners" = 1 ]; then
      summary "migration end to end / ceiling, $kind, 1 runner" \
        "$(awk -v s="$schedules" -v t="$seconds" -v c="$ceiling" 'BEGIN { printf "%.2f", s / t / c }')" ">=" 0.9
    fi
  done
done

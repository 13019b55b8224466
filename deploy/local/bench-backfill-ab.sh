#!/usr/bin/env bash
# `make bench-backfill-ab A=DIR B=DIR`: two builds' backfill end to end, side by side in one run, on
# PostgreSQL or SQLite. DIR A and DIR B each hold release executables (backfill-validator,
# backfill-processor, jobstream), say copies of .build-bench/release made before and after a change.
# Every round runs one job per side, the order swapped every other round: the store as seeded with ROWS
# charges and no before-images (they pile up from run to run and slow the next), one validator and
# PROCESSORS processors in fresh consumer groups, then an update-rate-plan-charge file of ROWS rows
# submitted and waited for. Prints each job's time submit → Completed; compare the medians.
#
# Usage: bench-backfill-ab.sh DIR_A DIR_B [ROUNDS]. Environment: ROWS (1000000), STORE (postgres or
# sqlite), PROCESSORS (2 on PostgreSQL, 1 on SQLite: the aims' counts), PG_URL (the PostgreSQL store).
set -euo pipefail
side_a=${1:?usage: bench-backfill-ab.sh DIR_A DIR_B [ROUNDS]} side_b=${2:?usage: bench-backfill-ab.sh DIR_A DIR_B [ROUNDS]}
rounds=${3:-3} rows=${ROWS:-1000000} kind=${STORE:-postgres}
work=$PWD/.local/bench-backfill-ab
rm -rf "$work" && mkdir -p "$work"
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
export JOBSTREAM_FILE_STORE=$work/files
case $kind in
  postgres) export JOBSTREAM_STORE=${PG_URL:?PG_URL is needed: the PostgreSQL store}; processors=${PROCESSORS:-2} ;;
  sqlite) export JOBSTREAM_STORE=$work/store.sqlite; processors=${PROCESSORS:-1} ;;
  *) echo "STORE must be postgres or sqlite, not $kind" >&2; exit 2 ;;
esac
bin=$side_a
source deploy/local/bench-lib.sh
trap stop_services EXIT

restart_broker
"$bin/jobstream" store seed --charges "$rows" --invoice-items 0 >/dev/null
[ "$kind" = sqlite ] && cp "$JOBSTREAM_STORE" "$work/seeded.sqlite"
[ -x "$side_a/backfill-bench" ] && generator=$side_a/backfill-bench || generator=.build-bench/release/backfill-bench
"$generator" generate-file --rows "$rows" -o "$work/charges.csv"

# run_side DIR: one job end to end with DIR's executables; sets `result` (its time). Not to be run in a
# subshell: each run's consumer groups are named after bench-lib's run counter, which it advances.
run_side() {
  bin=$1
  if [ "$kind" = sqlite ]; then  # the seeded file itself, without the last job's write-ahead log
    rm -f "$JOBSTREAM_STORE"-wal "$JOBSTREAM_STORE"-shm && cp "$work/seeded.sqlite" "$JOBSTREAM_STORE"
  else
    psql "$JOBSTREAM_STORE" -qAt -c "TRUNCATE backfill_before_images" >/dev/null
    "$bin/jobstream" store seed --charges "$rows" --invoice-items 0 >/dev/null
  fi
  join_group backfill-validator "$work/validator.log"
  for i in $(seq 1 "$processors"); do join_group backfill-processor "$work/processor-$i.log"; done
  local start end job
  start=$(now)
  job=$("$bin/jobstream" backfill submit --action update-rate-plan-charge --file "$work/charges.csv" --generated-by bench)
  "$bin/jobstream" backfill wait "$job" --timeout 1800 >/dev/null
  end=$(now)
  stop_services
  result=$(awk -v r="$rows" -v s="$start" -v e="$end" 'BEGIN { printf "%.2f s, %.0f rows/s", e - s, r / (e - s) }')
}

for round in $(seq 1 "$rounds"); do
  order="a b"
  [ $((round % 2)) = 0 ] && order="b a"
  for side in $order; do
    dir=$side_a
    [ "$side" = b ] && dir=$side_b
    run_side "$dir"
    echo "round $round $side ($dir): $result"
  done
done

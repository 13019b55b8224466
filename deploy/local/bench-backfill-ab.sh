#!/usr/bin/env bash
# `make bench-backfill-ab A=DIR B=DIR`: two builds' backfill end to end on PostgreSQL, side by side in
# one run. DIR A and DIR B each hold release executables (backfill-validator, backfill-processor,
# jobstream), say copies of .build-bench/release made before and after a change. Every round runs one
# job per side, the order swapped every other round: the store re-seeded with ROWS charges and its
# before-images emptied first (they pile up from run to run and slow the next), one validator and
# PROCESSORS processors in fresh consumer groups, then an update-rate-plan-charge file of ROWS rows
# submitted and waited for. Prints each job's time submit → Completed; compare the medians.
#
# Usage: bench-backfill-ab.sh DIR_A DIR_B [ROUNDS]. Environment: ROWS (1000000), PROCESSORS (2),
# PG_URL (the store).
set -euo pipefail
side_a=${1:?usage: bench-backfill-ab.sh DIR_A DIR_B [ROUNDS]} side_b=${2:?usage: bench-backfill-ab.sh DIR_A DIR_B [ROUNDS]}
rounds=${3:-3} rows=${ROWS:-1000000} processors=${PROCESSORS:-2}
work=$PWD/.local/bench-backfill-ab
rm -rf "$work" && mkdir -p "$work"
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
export JOBSTREAM_FILE_STORE=$work/files
export JOBSTREAM_STORE=${PG_URL:?PG_URL is needed: the PostgreSQL store}
bin=$side_a
source deploy/local/bench-lib.sh
trap stop_services EXIT

restart_broker
"$bin/jobstream" store seed --charges "$rows" --invoice-items 0 >/dev/null
[ -x "$side_a/backfill-bench" ] && generator=$side_a/backfill-bench || generator=.build-bench/release/backfill-bench
"$generator" generate-file --rows "$rows" -o "$work/charges.csv"

# run_side DIR: one job end to end with DIR's executables; sets `result` (its time). Not to be run in a
# subshell: each run's consumer groups are named after bench-lib's run counter, which it advances.
run_side() {
  bin=$1
  psql "$JOBSTREAM_STORE" -qAt -c "TRUNCATE backfill_before_images" >/dev/null
  "$bin/jobstream" store seed --charges "$rows" --invoice-items 0 >/dev/null
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

#!/usr/bin/env bash
# `make bench-backfill`: a 1,000,000-row update-rate-plan-charge file from submit to Completed (result
# file written) with one processor and with two, on SQLite and on PostgreSQL; the ceiling measured
# in the same run (the same updates applied straight to the same store by one process, without
# Kafka); and the validator's peak memory on a 2 GB file.
#
# Usage: bench-backfill.sh RELEASE_BIN_DIR. Environment: ROWS (1000000), BIG_ROWS (2000000),
# BIG_NOTE (1000 characters of informational column per row), STORES ("sqlite postgres"), PG_URL.
set -euo pipefail
bin=$1
rows=${ROWS:-1000000}
big_rows=${BIG_ROWS:-2000000}
big_note=${BIG_NOTE:-1000}
stores=${STORES-sqlite postgres}
work=$PWD/.local/bench-backfill
rm -rf "$work" && mkdir -p "$work"
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
export JOBSTREAM_FILE_STORE=$work/files
source deploy/local/bench-lib.sh
trap stop_services EXIT

# run_job LABEL PROCESSORS FILE TIMEOUT: starts a validator and PROCESSORS processors, submits FILE,
# waits for the end, stops them; sets `seconds` (submit → Completed) and `memory` (validator peak, MB).
run_job() {
  local label=$1 processors=$2 file=$3 timeout=$4 validator start end job i
  join_group backfill-validator "$work/validator-$label.log"
  validator=${pids[0]}
  for i in $(seq 1 "$processors"); do join_group backfill-processor "$work/processor-$label-$i.log"; done
  start=$(now)
  job=$("$bin/jobstream" backfill submit --action update-rate-plan-charge --file "$file" --generated-by bench)
  "$bin/jobstream" backfill wait "$job" --timeout "$timeout" | tail -1 | sed 's/^/   /'
  end=$(now)
  memory=$(peak_mb "$validator")
  stop_services
  seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')
}

restart_broker

echo "== generating the $rows-row file"
"$bin/backfill-bench" generate-file --rows "$rows" -o "$work/charges.csv"
ls -l "$work/charges.csv" | awk '{printf "   %.1f MB\n", $5 / 1e6}'

for kind in $stores; do
  if [ "$kind" = postgres ]; then
    export JOBSTREAM_STORE=${PG_URL:?PG_URL is needed for the PostgreSQL runs}
  else
    export JOBSTREAM_STORE=$work/store.sqlite
  fi
  echo
  echo "== $kind: seeding $rows charges"
  "$bin/jobstream" store seed --charges "$rows" --invoice-items 0
  echo "== $kind: ceiling (one process, no Kafka)"
  ceiling_line=$("$bin/backfill-bench" ceiling --file "$work/charges.csv")
  echo "   $ceiling_line"
  ceiling=$(echo "$ceiling_line" | sed -E 's/.* = ([0-9]+) rows\/s.*/\1/')
  for processors in 1 2; do
    "$bin/jobstream" store seed --charges "$rows" --invoice-items 0 >/dev/null
    run_job "$kind-$processors" "$processors" "$work/charges.csv" 3600
    awk -v k="$kind" -v p="$processors" -v r="$rows" -v t="$seconds" -v c="$ceiling" -v m="$memory" 'BEGIN {
      rate = r / t; printf "RESULT %s, %d processor(s): %d rows submit→Completed in %.1f s = %.0f rows/s = %.2f of the ceiling (%s rows/s); validator peak %s MB\n", k, p, r, t, rate, rate / c, c, m }'
  done
done

echo
echo "== validator peak memory on a 2 GB file ($big_rows rows, a $big_note-character Note column)"
export JOBSTREAM_STORE=$work/store.sqlite
"$bin/backfill-bench" generate-file --rows "$big_rows" --note "$big_note" -o "$work/big.csv"
ls -l "$work/big.csv" | awk '{printf "   %.2f GB\n", $5 / 1e9}'
"$bin/jobstream" store seed --charges "$rows" --invoice-items 0 >/dev/null
run_job big 2 "$work/big.csv" 7200
awk -v r="$big_rows" -v t="$seconds" -v m="$memory" 'BEGIN {
  printf "RESULT 2 GB file: %d rows submit→Completed in %.1f s = %.0f rows/s; validator peak memory %s MB\n", r, t, r / t, m }'
rm -f "$work/big.csv" "$work"/files/uploads/*/big.csv "$work"/files/results/*/big-result.csv

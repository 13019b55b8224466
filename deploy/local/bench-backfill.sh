#!/usr/bin/env bash
# `make bench-backfill`: a 1,000,000-row update-rate-plan-charge file from submit to Completed (result
# file written) with one processor and with two, on SQLite and on PostgreSQL, against two yardsticks
# measured in the same run on the same store: what a database administrator would do by hand (the
# database's own bulk loader, then one UPDATE … FROM) and the project's own ceiling (the same updates
# applied straight to the store by one process, without Kafka); a preview of the same file end to
# end; and the validator's peak memory on a 2 GB file.
#
# Usage: bench-backfill.sh RELEASE_BIN_DIR. Environment: ROWS (1000000), BIG_ROWS (2000000; 0 skips
# the 2 GB run), BIG_NOTE (1000 characters of informational column per row), STORES ("sqlite
# postgres"), SQLITE_PROCESSORS and POSTGRES_PROCESSORS (the runs' processor counts, "1 2"), PG_URL.
# The aims' rows (SUMMARY lines) are SQLite with one processor and PostgreSQL with two.
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

command -v sqlite3 >/dev/null || { echo "installing sqlite3 (the by-hand path's bulk loader)"; apt-get update -q && apt-get install -y -q sqlite3; }

# run_job LABEL PROCESSORS FILE TIMEOUT [SUBMIT ARGS...]: starts a validator and PROCESSORS processors,
# submits FILE, waits for the end, stops them; sets `seconds` (submit → Completed) and `memory`
# (validator peak, MB).
run_job() {
  local label=$1 processors=$2 file=$3 timeout=$4 validator start end job i
  shift 4
  join_group backfill-validator "$work/validator-$label.log"
  validator=${pids[0]}
  for i in $(seq 1 "$processors"); do join_group backfill-processor "$work/processor-$label-$i.log"; done
  start=$(now)
  job=$("$bin/jobstream" backfill submit --action update-rate-plan-charge --file "$file" --generated-by bench "$@")
  "$bin/jobstream" backfill wait "$job" --timeout "$timeout" | tail -1 | sed 's/^/   /'
  end=$(now)
  memory=$(peak_mb "$validator")
  stop_services
  seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')
}

# by_hand KIND FILE: what a database administrator would run instead — the database's bulk loader
# into a table of its own, then one UPDATE … FROM — timed from the start of the load to the update's
# commit; sets `by_hand` (rows/s).
by_hand() {
  local kind=$1 file=$2 start end
  start=$(now)
  if [ "$kind" = postgres ]; then
    psql "$JOBSTREAM_STORE" -q -v ON_ERROR_STOP=1 <<SQL
CREATE TEMPORARY TABLE staged (id TEXT, booking_date TEXT, accounting_code TEXT);
\copy staged FROM '$file' WITH (FORMAT csv, HEADER true)
UPDATE rate_plan_charges AS t SET booking_date = s.booking_date, accounting_code = s.accounting_code,
    version = t.version + 1 FROM staged AS s WHERE t.id = s.id;
SQL
  else
    sqlite3 -bail "$JOBSTREAM_STORE" <<SQL
CREATE TEMPORARY TABLE staged (id TEXT, booking_date TEXT, accounting_code TEXT);
.import --csv --skip 1 --schema temp '$file' staged
UPDATE rate_plan_charges AS t SET booking_date = s.booking_date, accounting_code = s.accounting_code,
    version = t.version + 1 FROM staged AS s WHERE t.id = s.id;
SQL
  fi
  end=$(now)
  by_hand=$(awk -v r="$rows" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", r / (e - s) }')
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
  echo "== $kind: by hand (bulk load, one UPDATE … FROM)"
  "$bin/jobstream" store seed --charges "$rows" --invoice-items 0 >/dev/null
  by_hand "$kind" "$work/charges.csv"
  echo "   by hand: $by_hand rows/s"
  if [ "$kind" = postgres ]; then counts=${POSTGRES_PROCESSORS:-1 2} aimed=2; else counts=${SQLITE_PROCESSORS:-1 2} aimed=1; fi
  for processors in $counts; do
    "$bin/jobstream" store seed --charges "$rows" --invoice-items 0 >/dev/null
    if [ "$processors" = "$aimed" ]; then  # a preview first: it writes no record, so the store stays as seeded
      run_job "$kind-$processors-preview" "$processors" "$work/charges.csv" 3600 --preview
      preview_rate=$(awk -v r="$rows" -v t="$seconds" 'BEGIN { printf "%.0f", r / t }')
    fi
    run_job "$kind-$processors" "$processors" "$work/charges.csv" 3600
    rate=$(awk -v r="$rows" -v t="$seconds" 'BEGIN { printf "%.0f", r / t }')
    awk -v k="$kind" -v p="$processors" -v r="$rows" -v t="$seconds" -v c="$ceiling" -v h="$by_hand" -v m="$memory" 'BEGIN {
      rate = r / t; printf "RESULT %s, %d processor(s): %d rows submit→Completed in %.1f s = %.0f rows/s = %.2f of by hand (%s rows/s), %.2f of the ceiling (%s rows/s); validator peak %s MB\n", k, p, r, t, rate, rate / h, h, rate / c, c, m }'
    if [ "$processors" = "$aimed" ]; then
      awk -v k="$kind" -v p="$processors" -v v="$preview_rate" -v a="$rate" 'BEGIN {
        printf "RESULT %s, %d processor(s): preview submit→Completed %.0f rows/s = %.2f of applying (%.0f rows/s)\n", k, p, v, v / a, a }'
      summary "backfill end to end / by hand, $kind, $processors processor(s)" \
        "$(awk -v a="$rate" -v h="$by_hand" 'BEGIN { printf "%.2f", a / h }')" ">=" 0.5
      summary "backfill preview / apply, $kind, $processors processor(s)" \
        "$(awk -v v="$preview_rate" -v a="$rate" 'BEGIN { printf "%.2f", v / a }')" ">=" 1.0
    fi
  done
done

[ "$big_rows" -gt 0 ] || exit 0
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

#!/usr/bin/env bash
# `make bench-undo`: what keeping before-images costs the apply path. The store's ceiling (a file's
# rows applied straight to the store by one process, a chunk per transaction, the processors' SQL)
# with before-images kept and without, alternating rounds on the same store, on SQLite and on
# PostgreSQL; prints each round and the ratio of the medians.
# `make bench-preview` (MODE=preview): a preview's read-only chunks against applying (images kept).
#
# Usage: bench-undo.sh RELEASE_BIN_DIR. Environment: ROWS (1000000), ROUNDS (3), STORES ("sqlite postgres"), PG_URL,
# MODE (undo or preview).
set -euo pipefail
bin=$1
rows=${ROWS:-1000000}
rounds=${ROUNDS:-3}
stores=${STORES-sqlite postgres}
work=$PWD/.local/bench-undo
rm -rf "$work" && mkdir -p "$work"
if [ "${MODE:-undo}" = preview ]; then other=--preview; else other=--no-before-images; fi

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rate() { sed -E 's/.* = ([0-9]+) rows\/s.*/\1/'; }

"$bin/backfill-bench" generate-file --rows "$rows" -o "$work/charges.csv"
for kind in $stores; do
  if [ "$kind" = postgres ]; then
    export JOBSTREAM_STORE=${PG_URL:?PG_URL is needed for the PostgreSQL runs}
  else
    export JOBSTREAM_STORE=$work/store.sqlite
  fi
  echo "== $kind: seeding $rows charges"
  "$bin/jobstream" store seed --charges "$rows" --invoice-items 0
  : >"$work/kept" && : >"$work/plain"
  for round in $(seq 1 "$rounds"); do
    kept=$("$bin/backfill-bench" ceiling --file "$work/charges.csv")
    plain=$("$bin/backfill-bench" ceiling --file "$work/charges.csv" "$other")
    echo "   round $round: $kept"
    echo "   round $round: $plain"
    echo "$kept" | rate >>"$work/kept"
    echo "$plain" | rate >>"$work/plain"
  done
  if [ "$other" = --preview ]; then
    awk -v k="$kind" -v a="$(median <"$work/kept")" -v b="$(median <"$work/plain")" 'BEGIN {
      printf "RESULT %s: preview %.0f rows/s, apply %.0f rows/s (medians): preview at %.2f of the apply rate\n", k, b, a, b / a }'
  else
    awk -v k="$kind" -v a="$(median <"$work/kept")" -v b="$(median <"$work/plain")" 'BEGIN {
      printf "RESULT %s: apply with before-images %.0f rows/s, without %.0f rows/s (medians): %.2f of the rate without\n", k, a, b, a / b }'
  fi
done

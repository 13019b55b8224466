#!/usr/bin/env bash
# `make bench`: every benchmark in one run, sized to finish in under half an hour once the release
# build is made, then one table of every figure that has an aim — its ratio or value, the aim, and
# whether it holds. The table is printed, kept in .local/bench-all/summary.md, and added to
# BENCHMARKS.md under "make bench runs" with the commit and the date (RECORD=0: not added).
#
# Each benchmark prints its own SUMMARY lines (bench-lib.sh's `summary`); the logs of this run are in
# .local/bench-all/. Environment: BENCHES (which to run: "backfill kafka migration sync dashboard").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/.local/bench-all
mkdir -p "$out"
benches=${BENCHES:-backfill kafka migration sync dashboard}
commit=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
began=$SECONDS

run() {  # run NAME [VAR=VALUE...]: one benchmark's make target, with the sizes of this run
  local name=$1
  shift
  echo "=== make bench-$name $*"
  local started=$SECONDS
  if ! env "$@" make --no-print-directory -C "$root" "bench-$name" 2>&1 | tee "$out/$name.log"; then
    printf 'SUMMARY\t%s\t%s\t%s\t%s\n' "bench-$name" "failed: see .local/bench-all/$name.log" "completes" "**no**" >>"$out/$name.log"
  fi
  echo "=== bench-$name took $((SECONDS - started)) s"
}

for bench in $benches; do
  case $bench in
    # The aims' runs only: SQLite with one processor and PostgreSQL with two; no 2 GB memory run.
    backfill) run backfill SQLITE_PROCESSORS=1 POSTGRES_PROCESSORS=2 BIG_ROWS=0 ;;
    kafka) run kafka ;;
    migration) run migration RUNNERS=1 CHARGES=500000 ;;
    sync) run sync QUERY_SESSIONS=200000 ;;
    dashboard) run dashboard ;;
    *) echo "unknown benchmark: $bench" >&2; exit 2 ;;
  esac
done

minutes=$(((SECONDS - began + 59) / 60))
{
  echo "\`make bench\` at $commit, $(date -u +%Y-%m-%d), $minutes minutes:"
  echo
  echo "| measure | figure | aim | holds |"
  echo "| --- | ---: | --- | --- |"
  for bench in $benches; do
    grep -h $'^SUMMARY\t' "$out/$bench.log" | awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $2, $3, $4, $5 }'
  done
} >"$out/summary.md"
echo
cat "$out/summary.md"
if [ "${RECORD:-1}" = 1 ]; then
  grep -q '^## `make bench` runs' "$root/BENCHMARKS.md" || printf '\n## `make bench` runs\n\nOne table per run of `make bench`, newest last.\n' >>"$root/BENCHMARKS.md"
  { echo; cat "$out/summary.md"; } >>"$root/BENCHMARKS.md"
  echo
  echo "(added to BENCHMARKS.md)"
fi

#!/usr/bin/env bash
# The end of `make run`: backfills on the sample record store going through their statuses, the
# backfill log and a result file; migrations of the revenue side as of a cutover date, before and
# after a backfill fixes the charges they warned about; then one example message to the service
# whose work is still to come, and one message of a type a service does not handle, which is dead-lettered.
#
# Environment: BIN (folder of the executables), RUN_DIR, KAFKA_BROKERS, JOBSTREAM_STORE, JOBSTREAM_FILE_STORE.
set -euo pipefail
: "${BIN:?}" "${RUN_DIR:?}"
demo=$RUN_DIR/demo
mkdir -p "$demo"
jobstream() { "$BIN/jobstream" "$@"; }

echo
echo "== the sample record store ($JOBSTREAM_STORE)"
jobstream store seed --charges 20000 --invoice-items 5000
jobstream store counts

echo
echo "== a backfill file: 5,000 rate plan charges to update, three of the rows with a problem"
{
  jobstream backfill template update-rate-plan-charge | cut -d, -f1,2,3 | sed 's/$/,Comment/'
  for n in $(seq 1 4997); do printf 'RPC-%08d,2025-%02d-01,4000-Subscription,"demo, row %d"\n' "$n" $((n % 12 + 1)) "$n"; done
  printf 'RPC-00004998,2025-02-30,4000-Subscription,no such date\n'
  printf 'RPC-99999999,2025-01-01,4000-Subscription,no such charge\n'
  printf 'RPC-00000001,2025-01-01,4100-Usage,charge already in the file\n'
} >"$demo/charges.csv"
head -3 "$demo/charges.csv"
echo "..."

echo
echo "== submit it and follow its statuses"
job=$(jobstream backfill submit --action update-rate-plan-charge --file "$demo/charges.csv" --generated-by demo)
echo "job id: $job"
jobstream backfill wait "$job" || true

echo
echo "== the backfill log"
jobstream backfill logs --limit 5
echo
jobstream backfill show "$job"
echo
echo "== the result file: every row with Success and Error Message (the rows that failed)"
jobstream backfill download "$job" -o "$demo/charges-result.csv"
head -1 "$demo/charges-result.csv"
grep ',false,' "$demo/charges-result.csv" || true

echo
echo "== a migration: revenue schedules as of the cutover date 2025-01-01 (about 40 % of the charges have no booking date)"
first=$(jobstream migration start --cutover 2025-01-01 --generated-by demo)
echo "migration id: $first"
jobstream migration wait "$first" || true
jobstream migration show "$first" --warnings 3

echo
echo "== a file-less backfill: booking date from the original created-on date, where missing"
fileless=$(jobstream backfill submit --action booking-date-from-created --generated-by demo)
jobstream backfill wait "$fileless" || true

echo
echo "== the same cutover date again: every charge migrates; its schedules are replaced, not duplicated"
second=$(jobstream migration start --cutover 2025-01-01 --generated-by demo)
jobstream migration wait "$second" || true

echo
echo "== the migration log"
jobstream migration logs --limit 5

examples=$RUN_DIR/examples
jobstream messages examples -o "$examples" >/dev/null
echo
echo "== the sync-history recorder: an example message (its work is still to come)"
jobstream messages publish --log-level warning --topic jobstream.sync.events "$examples/sync.session-started.json"
echo "== and a backfill.cancel where the sync-history recorder does not expect one"
jobstream messages publish --log-level warning --topic jobstream.sync.events "$examples/backfill.cancel.json"
sleep 3
grep -hE "received|dead-lettered" "$RUN_DIR"/sync-history-recorder.log \
  | sed -E "s/^[^ ]+ [a-z]+ jobstream\.([a-z-]+):.*\] /\1: /" || true
echo
echo "== the dead-letter topic"
jobstream messages tail --log-level warning --topic jobstream.dead-letters --count 1 --seconds 20
echo
echo "The services keep running (logs in $RUN_DIR); 'make stop' stops them and the broker."

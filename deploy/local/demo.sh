#!/usr/bin/env bash
# The end of `make run`: backfills on the sample record store going through their statuses, the
# backfill log and a result file; migrations of the revenue side as of a cutover date, before and
# after a backfill fixes the charges they warned about; then one example message to the service
# whose work is still to come, and one message of a type a service does not handle, which is dead-lettered.
#
# Environment: BIN (folder of the executables), RUN_DIR, KAFKA_BROKERS, JOBSTREAM_STORE, JOBSTREAM_FILE_STORE, DASHBOARD_PORT.
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

echo
echo "== sync history: the simulator (not a real sync engine) reports six sessions, events twice and out of order"
sync_prefix=demo-sync-$(date +%H%M%S)
jobstream sync simulate --log-level warning --sessions 6 --records 40 --failure-rate 0.02 --system-failure-rate 0.3 \
  --duplicate-rate 0.2 --shuffle --seed 2 --prefix "$sync_prefix"
for _ in $(seq 1 60); do
  [ "$(jobstream sync history --limit 1000 | grep -c "^$sync_prefix-.*Running")" = 0 ] \
    && [ "$(jobstream sync history --limit 1000 | grep -c "^$sync_prefix-")" = 6 ] && break
  sleep 0.5
done
echo
echo "== the sync history, newest first: Finished, Finished with Errors and Failure"
jobstream sync history --limit 6
errors=$(jobstream sync history --limit 1000 | awk -v p="^$sync_prefix-" '$0 ~ p && /Finished with Errors/ {print $1; exit}')
if [ -n "$errors" ]; then
  echo
  echo "== the detail status of $errors"
  jobstream sync show "$errors" --records 5
  jobstream sync failures "$errors" -o "$RUN_DIR/$errors-failures.csv"
fi
echo
echo "== a failed record outcome without an error code goes to the dead-letter topic"
printf '{"type":"sync.record-outcome","version":"1.0","jobId":"demo-bad-session","time":"2026-11-22T10:00:00.000Z","payload":{"objectType":"Account","objectId":"A-1","success":false,"retryable":false}}' >"$RUN_DIR/bad-sync-event.json"
jobstream messages publish --log-level warning --topic jobstream.sync.events "$RUN_DIR/bad-sync-event.json" || true
echo
echo "== the dead-letter topic"
jobstream messages tail --log-level warning --topic jobstream.dead-letters --count 1 --seconds 20
echo
port=${DASHBOARD_PORT:-8080}
counts=$(python3 -c 'import json, sys, urllib.request as u; print(len(json.load(u.urlopen(sys.argv[1]))["backfills"]))' \
  "http://127.0.0.1:$port/api/backfills" 2>/dev/null || echo "?")
echo "== the dashboard: the three logs, live"
echo "   http://127.0.0.1:$port/backfills   ($counts backfills shown; also /migrations and /sync, and the JSON API under /api)"
echo "   Cancel needs the operator token: sign in at http://127.0.0.1:$port/login with the token in $RUN_DIR/dashboard-operator-token"
echo
processor_metrics="http://127.0.0.1:$(SERVICES="${SERVICES:-}" deploy/local/services.sh metrics-port backfill-processor)"
echo "== operating: the processor's readiness and a few of its metrics ($processor_metrics/metrics)"
python3 - "$processor_metrics" <<'PY' || echo "   (the processor's operations port did not answer)"
import sys, urllib.request as u
base = sys.argv[1]
print("   /ready:", u.urlopen(base + "/ready").read().decode())
for line in u.urlopen(base + "/metrics").read().decode().splitlines():
    if line.startswith(("jobstream_messages_consumed_total", "jobstream_message_processing_seconds_count",
                        "jobstream_consumer_lag{", "jobstream_messages_produced_total")):
        print("  ", line)
PY
echo
echo "The services keep running (logs in $RUN_DIR); 'make stop' stops them and the broker."

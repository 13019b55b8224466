#!/usr/bin/env bash
# The end of `make run`: sends one example message to each running service, plus one message of a
# type a service does not handle, and shows what the services logged and what was dead-lettered.
#
# Environment: BIN (folder of the executables), RUN_DIR, KAFKA_BROKERS.
set -euo pipefail
: "${BIN:?}" "${RUN_DIR:?}"
examples=$RUN_DIR/examples
"$BIN/jobstream" messages examples -o "$examples" >/dev/null

echo
echo "== sending one example message to each service"
"$BIN/jobstream" messages publish --log-level warning --topic jobstream.backfill.requests "$examples/backfill.request.json"
"$BIN/jobstream" messages publish --log-level warning --topic jobstream.backfill.chunks "$examples/backfill.chunk.json"
"$BIN/jobstream" messages publish --log-level warning --topic jobstream.migration.requests "$examples/migration.request.json"
"$BIN/jobstream" messages publish --log-level warning --topic jobstream.sync.events "$examples/sync.session-started.json"
echo "== and a backfill.cancel where the sync-history recorder does not expect one"
"$BIN/jobstream" messages publish --log-level warning --topic jobstream.sync.events "$examples/backfill.cancel.json"

sleep 3
echo
echo "== what the services logged"
for log in "$RUN_DIR"/*.log; do
  grep -hE "received|dead-lettered" "$log" | sed -E "s/^[^ ]+ [a-z]+ jobstream\.([a-z-]+):.*\] /\1: /" || true
done
echo
echo "== the dead-letter topic"
"$BIN/jobstream" messages tail --log-level warning --topic jobstream.dead-letters --count 1 --seconds 20
echo
echo "The services keep running (logs in $RUN_DIR); 'make stop' stops them and the broker."

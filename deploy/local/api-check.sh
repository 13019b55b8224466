#!/usr/bin/env bash
# Checks the dashboard's API against its OpenAPI document with schemathesis: a dashboard on a store of
# its own (a throwaway SQLite file and file store) with a named approver token, then a bounded number
# of generated requests per operation. Fails on any 5xx, any status code or content type the document
# does not list, and any answer that does not match its schema. The follow streams (`…/events`) are
# left out: they last as long as their job, and no validator runs here; the route tests and the end
# to end tests follow jobs. Usage: api-check.sh BIN_DIR [EXAMPLES] [SEED]
set -euo pipefail
bin=$1
examples=${2:-25}
seed=${3:-20261202}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill "$dashboard" 2>/dev/null || true; wait "$dashboard" 2>/dev/null || true; rm -rf "$work"' EXIT
token="js_schemathesis_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "schemathesis.approver approver sha256:$(printf %s "$token" | sha256sum | cut -d' ' -f1)" > "$work/tokens"
JOBSTREAM_STORE="$work/store.sqlite" JOBSTREAM_FILE_STORE="$work/files" \
  "$bin/dashboard" --port 0 --tokens-file "$work/tokens" --max-upload-bytes 1000000 > "$work/dashboard.log" 2>&1 &
dashboard=$!
for _ in $(seq 1 300); do
  url=$(grep -o 'dashboard listening on http://[^ ]*' "$work/dashboard.log" | head -1 | sed 's/dashboard listening on //' || true)
  [ -n "$url" ] && break
  kill -0 "$dashboard" 2>/dev/null || { cat "$work/dashboard.log"; echo "api-check: the dashboard exited"; exit 1; }
  sleep 0.2
done
[ -n "$url" ] || { cat "$work/dashboard.log"; echo "api-check: the dashboard did not start"; exit 1; }
echo "api-check: schemathesis against $url/api/openapi.json, $examples examples per operation, seed $seed"
"$root/.local/venv/bin/schemathesis" run "$url/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path-regex '/events$' \
  --max-examples "$examples" --seed "$seed" --request-timeout 30 --no-color
if grep -q " error " "$work/dashboard.log"; then
  grep " error " "$work/dashboard.log" | head -20
  echo "api-check: the dashboard logged errors"
  exit 1
fi

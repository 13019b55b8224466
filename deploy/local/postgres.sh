#!/usr/bin/env bash
# Starts the machine's PostgreSQL server (Debian's packages) and makes the role and databases
# jobstream uses: `jobstream` (the run), `jobstream_test`, `jobstream_test_migration`, `jobstream_test_sync`, `jobstream_test_undo`, `jobstream_test_holds` and `jobstream_test_preview` (Swift tests), `jobstream_e2e` and `jobstream_e2e_gw1` (service
# tests). Idempotent. Prints nothing else on success but the URL prefix.
#
# Environment: PG_USER, PG_PASSWORD, PG_PORT (defaults below).
set -euo pipefail
PG_USER="${PG_USER:-jobstream}"
PG_PASSWORD="${PG_PASSWORD:-jobstream}"
PG_PORT="${PG_PORT:-5432}"

command -v pg_ctlcluster >/dev/null || {
  echo "PostgreSQL is not installed: run 'apt-get install -y postgresql' (Debian 12 ships PostgreSQL 15)" >&2; exit 1; }
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  pg_createcluster --port "$PG_PORT" "$version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -qx online; then
  pg_ctlcluster "$version" main start
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || { echo "PostgreSQL did not accept connections on port $PG_PORT" >&2; exit 1; }

as_postgres() { runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qtAX "$@"; }
if [ "$(as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != 1 ]; then
  as_postgres -c "CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD'"
fi
for database in jobstream jobstream_test jobstream_test_migration jobstream_test_sync jobstream_test_undo jobstream_test_holds jobstream_test_preview jobstream_e2e jobstream_e2e_gw1; do
  if [ "$(as_postgres -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != 1 ]; then
    as_postgres -c "CREATE DATABASE $database OWNER $PG_USER"
  fi
done
echo "postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/"

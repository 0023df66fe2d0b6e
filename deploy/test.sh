#!/usr/bin/env bash
# Command 2: install, build, start a private PostgreSQL cluster on a free port, run every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
bash "$root/deploy/scripts/setup.sh" "$root/build"

pgdir=$root/.var/test-pg
port=$(bash "$root/deploy/scripts/pg.sh" start "$pgdir")
trap 'bash "$root/deploy/scripts/pg.sh" stop "$pgdir"' EXIT
# Tests create (and drop) their own databases on this server and apply deploy/migrations.
export FORECAST_TEST_PG="host=127.0.0.1 port=$port user=postgres dbname=postgres passfile=$pgdir/pgpass"
export FORECAST_MIGRATIONS_DIR=$root/deploy/migrations
export FORECAST_ROOT=$root
# Keys and certificates for TLS and access tokens (tests/support and tests/e2e use them).
FORECAST_PKI_DIR=$(bash "$root/deploy/scripts/pki.sh" "$root/.var/pki")
export FORECAST_PKI_DIR
echo "== PostgreSQL test cluster on port $port; keys and certificates in $FORECAST_PKI_DIR"

cd "$root/build"
set +e
ctest --output-on-failure -j "$(nproc)" --timeout 900
rc=$?
set -e
echo "== tests finished in $(( $(date +%s) - start )) s (set-up and build included)"
exit $rc

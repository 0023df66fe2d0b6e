#!/usr/bin/env bash
# A replayed idempotent answer is acknowledged only once it is as durable as a fresh write
# (issue 14, the failover lost-write race). A private cluster is made to behave like a primary cut
# off from its synchronous standby (synchronous_standby_names names a standby that never comes):
# then a retry with a stored key must not be acknowledged, exactly like a fresh write; once the
# standby "returns" (the setting reset), the retry gets the stored answer.
#   replay_durability_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "${1:?build dir}")
root=$(realpath "${2:?source dir}")
if [ "$(id -u)" != 0 ] && [ "$(id -un)" != postgres ]; then echo "replay durability test: needs root; skipped"; exit 0; fi
work=$build/tests/fault/replay-run
pg=$root/deploy/scripts/pg.sh
rm -rf "$work"; mkdir -p "$work"; chmod 755 "$work"
case_pid=""
cleanup() {
  [ -n "$case_pid" ] && kill -9 "$case_pid" 2>/dev/null || true
  bash "$pg" stop "$work/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT
port=$(bash "$pg" start "$work/pg")
# TCP needs scram-sha-256 passwords (pg.sh keeps them in the cluster's pgpass); the service runs
# as its own database role.
db="host=127.0.0.1 port=$port user=postgres dbname=postgres passfile=$work/pg/pgpass"
case_db="$db user=forecast_case_service"
admin=$build/services/case/forecast-admin
"$admin" create-job-centre --db "$db" --code RPL --name "Replay" --admin-code adm \
  --migrations "$root/deploy/migrations" >/dev/null
"$admin" add-unit --db "$db" --job-centre RPL --code T1 --name "Team 1" --kind TEAM >/dev/null
"$admin" add-staff --db "$db" --job-centre RPL --code cw1 --role CASEWORKER --team T1 >/dev/null
case_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# TLS and access tokens (fault_load mints them with the test key pair in $FORECAST_PKI_DIR).
FORECAST_PKI_DIR=$(bash "$root/deploy/scripts/pki.sh" "${FORECAST_PKI_DIR:-$work/pki}")
export FORECAST_PKI_DIR
pki=$FORECAST_PKI_DIR
"$build/services/case/case-service" --db "$case_db" --port "$case_port" --tls-cert "$pki/server.pem" \
  --tls-key "$pki/server.key" --tls-client-ca "$pki/ca.pem" --token-public-key "$pki/token-public.pem" \
  --token-signing-key "$pki/token-signing.pem" >"$work/case.log" 2>"$work/case.err" &
case_pid=$!
for i in $(seq 1 300); do grep -q "listening on" "$work/case.log" 2>/dev/null && break; sleep 0.1; done
load=$build/tests/fault/fault_load
create() {  # ref key deadline-ms
  "$load" create --case "127.0.0.1:$case_port" --centre RPL --staff cw1 --ref "$1" --key "$2" --deadline-ms "$3"
}
standby() {  # 'ghost' (a synchronous standby that never answers) or 'reset'
  if [ "$1" = reset ]; then q="ALTER SYSTEM RESET synchronous_standby_names"
  else q="ALTER SYSTEM SET synchronous_standby_names = 'ghost'"; fi
  psql "$db" -v ON_ERROR_STOP=1 -Atqc "$q" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
}
failed=0
expect() {  # what got wanted
  if [ "$2" = "$3" ]; then echo "ok: $1: $2"; else echo "FAIL: $1: got '$2', want '$3'"; failed=1; fi
}

expect "first write" "$(create R1 key-1 5000)" "OK R1 1"
standby ghost
# A fresh write is not acknowledged while the standby is missing (synchronous replication).
expect "fresh write, standby missing" "$(create R2 key-2 2000)" "DEADLINE_EXCEEDED"
# Nor is a replay of a stored answer: it might be one that only this node holds.
expect "replay, standby missing" "$(create R1 key-1 2000)" "DEADLINE_EXCEEDED"
standby reset
expect "replay, standby back" "$(create R1 key-1 5000)" "OK R1 1"
# The fresh write that timed out had committed locally; its retry gets its answer.
expect "retry of the fresh write, standby back" "$(create R2 key-2 5000)" "OK R2 1"
[ "$failed" = 0 ] && echo "replay durability test: PASS" || echo "replay durability test: FAIL"
exit "$failed"

#!/usr/bin/env bash
# Fault suite (issue 14): PostgreSQL primary + synchronous standby under pg_auto_failover
# (deploy/ha/ha.sh), case-service and forecast-service on a multi-host connection string
# (target_session_attrs=read-write), a steady write load (fault_load write), and these faults:
#   1. kill -9 the primary node (keeper + PostgreSQL): the standby takes over, writes resume <= 15 s
#   2. kill -9 the case service, restart it
#   3. kill -9 the forecast service, restart it
#   4. restart PostgreSQL on the primary (kill -9 of the postmaster; its keeper restarts it, or
#      the standby is promoted first)
# After every fault the forecast service's team dashboard must equal a freshly started forecast
# service's (a recomputation from the database). At the end every acknowledged write must be on
# the (new) primary. Prints acknowledged writes, lost writes and the time to recover per fault.
#   fault_suite.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "${1:?build dir}")
root=$(realpath "${2:?source dir}")
if [ "$(id -u)" != 0 ] && [ "$(id -un)" != postgres ]; then
  echo "fault suite: needs root (runs PostgreSQL as the postgres user); skipped"; exit 0
fi
work=$build/tests/fault/run
ha=$work/ha
ha_sh=$root/deploy/ha/ha.sh
rm -rf "$work"; mkdir -p "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  bash "$ha_sh" stop "$ha" >/dev/null 2>&1 || true
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
# TLS on every port and access tokens (fault_load mints them with the test key pair).
FORECAST_PKI_DIR=$(bash "$root/deploy/scripts/pki.sh" "${FORECAST_PKI_DIR:-$work/pki}")
export FORECAST_PKI_DIR
pki=$FORECAST_PKI_DIR
tls=(--tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --tls-client-ca "$pki/ca.pem"
  --token-public-key "$pki/token-public.pem")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

t=$(now_ms)
db=$(bash "$ha_sh" start "$ha" | tail -n 1)
echo "== HA cluster up in $(( ($(now_ms) - t) / 1000 )) s: $db"
admin=$build/services/case/forecast-admin
"$admin" create-job-centre --db "$db" --code FLT --name "Fault suite" --admin-code adm \
  --migrations "$root/deploy/migrations" >/dev/null
"$admin" add-unit --db "$db" --job-centre FLT --code T1 --name "Team 1" --kind TEAM >/dev/null
"$admin" add-staff --db "$db" --job-centre FLT --code cw1 --role CASEWORKER --team T1 >/dev/null
"$admin" add-staff --db "$db" --job-centre FLT --code tl1 --role TEAM_LEADER --team T1 >/dev/null

# The services connect as their own database roles (migrations 0005, 0009), as deployed; set-up
# and checks run as the owner; every connection needs its scram-sha-256 password (the conninfo
# names the cluster's password file, deploy/ha/ha.sh).
case_db="$db user=forecast_case_service"
forecast_db="$db user=forecast_forecast_service"
case_port=$(free_port); forecast_port=$(free_port)
wait_listening() {  # pid log [lines already in the log]
  for i in $(seq 1 600); do
    [ "$(grep -c "listening on" "$2" 2>/dev/null)" -gt "${3:-0}" ] && return 0
    kill -0 "$1" 2>/dev/null || { echo "service died:"; tail -n 20 "$2"; return 1; }
    sleep 0.1
  done
  echo "service did not start:"; tail -n 20 "$2"; return 1
}
start_case() {  # [times started before]
  "$build/services/case/case-service" --db "$case_db" --port "$case_port" --metrics-port 0 "${tls[@]}" \
    --token-signing-key "$pki/token-signing.pem" \
    >>"$work/case.log" 2>>"$work/case.err" &
  case_pid=$!; pids+=("$case_pid"); wait_listening "$case_pid" "$work/case.log" "${1:-0}"
}
start_forecast() {  # [times started before]
  "$build/services/forecast/forecast-service" --db "$forecast_db" --port "$forecast_port" --metrics-port 0 "${tls[@]}" \
    >>"$work/forecast.log" 2>>"$work/forecast.err" &
  forecast_pid=$!; pids+=("$forecast_pid"); wait_listening "$forecast_pid" "$work/forecast.log" "${1:-0}"
}
load=$build/tests/fault/fault_load
compare_dashboards() {  # label; the load pauses meanwhile, so that both see the same history
  local port; port=$(free_port)
  touch "$work/pause"; sleep 1
  "$build/services/forecast/forecast-service" --db "$forecast_db" --port "$port" --no-warm "${tls[@]}" \
    >"$work/fresh.log" 2>"$work/fresh.err" &
  local fresh=$!; pids+=("$fresh")
  if ! wait_listening "$fresh" "$work/fresh.log"; then
    echo "FAIL after $1: a fresh forecast service did not start"; failed=1; rm -f "$work/pause"; return
  fi
  if ! "$load" compare --forecast "127.0.0.1:$forecast_port" --forecast-fresh "127.0.0.1:$port" \
      --centre FLT --staff tl1 --team T1; then
    echo "FAIL after $1: dashboards differ"; failed=1
  fi
  kill -9 "$fresh" 2>/dev/null || true
  rm -f "$work/pause"
}
# Waits until a new read-write connection succeeds (the dying server's backends may still
# acknowledge a few writes for a moment: those reached the standby, but they are no recovery).
wait_writable() {
  local limit=$(( $(now_ms) + 90000 ))
  until psql "$db" -Atqc "SELECT 1" >/dev/null 2>&1; do
    [ "$(now_ms)" -gt "$limit" ] && return 1
    sleep 0.2
  done
}
acked() { wc -l <"$work/acked.txt" 2>/dev/null || echo 0; }
# Waits until the load has acknowledged `threads` more writes than at the fault; prints ms taken.
threads=4
recovered_ms() {  # fault-start-ms count-at-fault
  local limit=$(( $(now_ms) + 60000 ))
  while [ "$(acked)" -le $(( $2 + threads )) ]; do
    [ "$(now_ms)" -gt "$limit" ] && { echo 60000; return; }
    sleep 0.05
  done
  echo $(( $(now_ms) - $1 ))
}

start_case
start_forecast
: >"$work/acked.txt"
"$load" write --case "127.0.0.1:$case_port" --centre FLT --staff cw1 --threads $threads \
  --stop-file "$work/stop" --pause-file "$work/pause" --out "$work/acked.txt" >"$work/load.out" 2>"$work/load.err" &
load_pid=$!; pids+=("$load_pid")
sleep 5
failed=0
report=()
faults=()

# 1. The primary node dies.
old=$(bash "$ha_sh" primary "$ha")
n=$(acked); t=$(now_ms); faults+=("$t")
bash "$ha_sh" kill-node "$ha" "$old"
# Writes count as resumed once the standby has been promoted and takes the load's writes (a few
# writes may still be acknowledged by the dying primary's backends: they reached the standby).
new=""
limit=$(( $(now_ms) + 60000 ))
while [ "$(now_ms)" -lt "$limit" ]; do
  new=$(bash "$ha_sh" writable "$ha"); [ -n "$new" ] && [ "$new" != "$old" ] && break; new=""; sleep 0.2
done
promoted=$(( $(now_ms) - t ))
r=$(recovered_ms "$t" "$(acked)")
report+=("kill -9 primary ($old -> ${new:-none}): promotion observed after $promoted ms (polled), writes seen again after $r ms")
compare_dashboards "primary kill"
bash "$ha_sh" start-node "$ha" "$old"   # the old primary rejoins as the standby
bash "$ha_sh" wait-sync "$ha" 180 || failed=1

# 2. The case service dies.
n=$(acked); t=$(now_ms); faults+=("$t")
kill -9 "$case_pid"; start_case 1
r=$(recovered_ms "$t" "$n"); report+=("kill -9 case-service: writes resumed after $r ms")

# 3. The forecast service dies.
t=$(now_ms); faults+=("$t")
kill -9 "$forecast_pid"; start_forecast 1
report+=("kill -9 forecast-service: serving again after $(( $(now_ms) - t )) ms")
compare_dashboards "forecast-service kill"

# 4. PostgreSQL restarts (crash) on the primary; its keeper starts it again (or, when the monitor
#    is quicker, the standby is promoted: either way writes must resume and nothing be lost).
#    This once lost a write: the keeper restarted the crashed primary while the monitor promoted
#    the standby, and a retry was acknowledged from the old primary's stored idempotent answer
#    (committed there, never replicated) before the rewind dropped it. A replay now writes and
#    waits for the synchronous standby like a fresh write (services/case/pg_case_store.cc,
#    kTouchStoredAnswer; replay_durability_test). FAULT_PG_RESTART=0 skips this fault.
if [ "${FAULT_PG_RESTART:-1}" = 1 ]; then
  bash "$ha_sh" wait-sync "$ha" 180 || failed=1
  p=$(bash "$ha_sh" primary "$ha")
  n=$(acked); t=$(now_ms); faults+=("$t")
  kill -9 "$(head -n 1 "$ha/$p/postmaster.pid")"
  sleep 0.5
  wait_writable || { echo "FAIL: no writable PostgreSQL 90 s after the restart"; failed=1; }
  r=$(recovered_ms "$t" "$(acked)"); report+=("PostgreSQL restart on $p: writes resumed after $r ms")
  compare_dashboards "PostgreSQL restart"
fi

touch "$work/stop"
wait "$load_pid" || { echo "FAIL: the load saw errors other than UNAVAILABLE:"; tail -n 5 "$work/load.err"; failed=1; }
summary=$(tail -n 1 "$work/load.out")
total=$(acked)
lost=$(psql "$db" -v ON_ERROR_STOP=1 -Atq <<SQL
CREATE TEMP TABLE acked (ref text, first_ms bigint, ack_ms bigint);
\copy acked FROM '$work/acked.txt' WITH (DELIMITER ' ')
SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_ref = a.ref);
SQL
)
# The longest any acknowledged write waited (first attempt to acknowledgement) after each fault:
# what a client saw as the time to recover.
longest_wait() {  # from-ms to-ms
  awk -v a="$1" -v b="$2" '$3 >= a && $3 < b && $3 - $2 > m { m = $3 - $2 } END { print m + 0 }' "$work/acked.txt"
}
faults+=("$(now_ms)")
echo "== fault suite figures"
for ((i = 0; i + 1 < ${#faults[@]}; i++)); do
  echo "  longest wait for an acknowledged write after fault $((i + 1)): $(longest_wait "${faults[$i]}" "${faults[$((i + 1))]}") ms"
done
# The target after a primary's death is 15 s. On a machine shared with other builds the promotion
# alone can take longer, so exceeding it fails the suite only with FAULT_STRICT_RECOVERY=1.
w=$(longest_wait "${faults[0]}" "${faults[1]}")
if [ "$w" -gt 15000 ]; then
  if [ "${FAULT_STRICT_RECOVERY:-0}" = 1 ]; then echo "FAIL: writes waited $w ms after the primary died (> 15 s)"; failed=1
  else echo "  OVER TARGET: writes waited $w ms after the primary died (target 15 s)"; fi
fi
echo "load: $summary"
for line in "${report[@]}"; do echo "  $line"; done
echo "acknowledged writes: $total, lost writes: $lost"
[ "$lost" = 0 ] || { echo "FAIL: $lost acknowledged writes missing on the primary"; failed=1; }
[ "$failed" = 0 ] && echo "fault suite: PASS" || echo "fault suite: FAIL"
exit "$failed"

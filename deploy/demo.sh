#!/usr/bin/env bash
# Command 1 of the README: the whole product on one machine, with a synthetic job centre.
#   bash deploy/demo.sh
# Installs and builds (deploy/scripts/setup.sh), starts a private PostgreSQL cluster with its
# data in .var/demo-pg, applies the migrations, loads the demo job centre once (three years of
# history for six teams; skipped when already loaded), starts the case service, the forecast
# service and the gateway with the web app over TLS (keys and certificates from
# deploy/scripts/pki.sh in .var/pki), gives one staff member per role a fresh password, prints the
# address and the logins (also in .var/demo-logins.txt, mode 0600), and runs until Ctrl-C (or `kill <pid>` of this script, or
# `bash deploy/demo-stop.sh` from another terminal), then stops everything. Logs go to .var/demo-logs/.
# Ports: gateway 8080, case service 50051, forecast service 50052 when free, else free ones
# (override with DEMO_HTTP_PORT, DEMO_CASE_PORT, DEMO_FORECAST_PORT).
# For development: DEMO_BUILD=DIR uses another build folder, DEMO_SKIP_SETUP=1 reuses it as it is,
# DEMO_VAR=DIR keeps PostgreSQL, data and logs elsewhere than .var/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/demo-lib.sh
source "$root/deploy/scripts/demo-lib.sh"
start=$(date +%s)
var=${DEMO_VAR:-$root/.var}
logs=$var/demo-logs
build=${DEMO_BUILD:-$root/build}
centre=DEMO
mkdir -p "$logs"

if [ "${DEMO_SKIP_SETUP:-0}" != 1 ]; then
  bash "$root/deploy/scripts/setup.sh" "$build" demo   # only what the demo runs
fi
# The binaries where the build puts them (or, should the layout change, wherever they are).
declare -A exe=([forecast-migrate]=services/common [forecast-admin]=services/case
  [case-service]=services/case [forecast-service]=services/forecast [gateway]=services/gateway
  [forecastctl]=clients/cli)
for name in "${!exe[@]}"; do
  path=$build/${exe[$name]}/$name
  [ -x "$path" ] || path=$(find "$build" -type f -name "$name" -perm -u+x 2>/dev/null | head -n 1)
  if [ -z "$path" ]; then echo "!! $name was not built" >&2; exit 1; fi
  exe[$name]=$path
done
bin=$var/demo-bin
mkdir -p "$bin"
for name in "${!exe[@]}"; do ln -sf "${exe[$name]}" "$bin/$name"; done

DEMO_PIDS=()
DEMO_NAMES=()
pgdir=$var/demo-pg
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "== stopping the services and PostgreSQL"
  stop_services
  bash "$root/deploy/scripts/pg.sh" stop "$pgdir"
  rm -f "$var/demo.pid"
  echo "== stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# deploy/demo-stop.sh stops this script (and so everything it started) through this file.
echo $$ > "$var/demo.pid"

pki=$(bash "$root/deploy/scripts/pki.sh" "$var/pki")
echo "== keys and certificates in $pki"
service_tls=(--tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --tls-client-ca "$pki/ca.pem"
  --token-public-key "$pki/token-public.pem")
sessions=$var/demo-sessions

pg_port=$(bash "$root/deploy/scripts/pg.sh" start "$pgdir")
echo "== PostgreSQL on port $pg_port (data in $pgdir)"
# TCP needs scram-sha-256 passwords; pg.sh generated them into $pgdir/pgpass (mode 0600).
passfile=$pgdir/pgpass
admin_conn="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres passfile=$passfile"
if [ -z "$(psql "$admin_conn" -qtAX -c "SELECT 1 FROM pg_database WHERE datname = 'jobcentre'")" ]; then
  psql "$admin_conn" -q -c "CREATE DATABASE jobcentre" >/dev/null
fi
conninfo="host=127.0.0.1 port=$pg_port user=postgres dbname=jobcentre passfile=$passfile"
# Each service as its own role, with the least privilege it needs (migrations 0005, 0009-0011).
case_conn="host=127.0.0.1 port=$pg_port user=forecast_case_service dbname=jobcentre passfile=$passfile"
forecast_conn="host=127.0.0.1 port=$pg_port user=forecast_forecast_service dbname=jobcentre passfile=$passfile"
"$bin/forecast-migrate" "$conninfo" "$root/deploy/migrations" | sed 's/^/== /'

case_port=${DEMO_CASE_PORT:-$(port_or_free 50051)}
forecast_port=${DEMO_FORECAST_PORT:-$(port_or_free 50052)}
http_port=${DEMO_HTTP_PORT:-$(port_or_free 8080)}
case_addr=127.0.0.1:$case_port
forecast_addr=127.0.0.1:$forecast_port

start_service case-service "$logs/case-service.log" \
  "$bin/case-service" --db "$case_conn" --port "$case_port" --reflection \
  "${service_tls[@]}" --token-signing-key "$pki/token-signing.pem"
wait_for_line "${DEMO_PIDS[-1]}" "$logs/case-service.log" "listening on" 60
echo "== case service on $case_addr"

bash "$root/deploy/scripts/demo-load.sh" "$bin" "$conninfo" "$case_addr" "$centre" "$var/demo-data" \
  "$pki/ca.pem" "$sessions" 2>&1 | tee "$logs/load.log"

start_service forecast-service "$logs/forecast-service.log" \
  "$bin/forecast-service" --db "$forecast_conn" --port "$forecast_port" --reflection "${service_tls[@]}"
wait_for_line "${DEMO_PIDS[-1]}" "$logs/forecast-service.log" "listening on" 120

# One login per role, read from the loaded organisation, each with a fresh password.
first() { psql "$conninfo" -qtAX -c "SELECT s.code FROM staff s JOIN job_centre j ON j.id = s.job_centre_id
  WHERE j.code = '$centre' AND s.role = '$1' AND s.active ORDER BY s.code LIMIT 1"; }
caseworker=$(first CASEWORKER)
leader=$(psql "$conninfo" -qtAX -c "SELECT s.code FROM staff s JOIN job_centre j ON j.id = s.job_centre_id
  JOIN org_unit t ON t.id = s.team_id WHERE j.code = '$centre' AND s.role = 'TEAM_LEADER'
  AND t.code = (SELECT t2.code FROM staff c JOIN org_unit t2 ON t2.id = c.team_id
                WHERE c.job_centre_id = j.id AND c.code = '$caseworker') LIMIT 1")
manager=$(first MANAGER)
admin=$(first ADMIN)
declare -A password
logins=$var/demo-logins.txt
( umask 077; : >"$logins" )
for staff in "$caseworker" "$leader" "$manager" "$admin"; do
  password[$staff]=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
  printf '%s\n' "${password[$staff]}" | "$bin/forecast-admin" set-password --db "$conninfo" --job-centre "$centre" \
    --code "$staff" >/dev/null
  printf '%s %s %s\n' "$centre" "$staff" "${password[$staff]}" >>"$logins"
done
ctl() {
  FORECASTCTL_CONFIG="$sessions/$manager.json" "$bin/forecastctl" --server "$case_addr" --forecast "$forecast_addr" \
    --ca "$pki/ca.pem" --job-centre "$centre" --staff "$manager" "$@"
}
printf '%s\n' "${password[$manager]}" | ctl login --password-stdin >/dev/null

# Healthy means answering: the whole centre's projection (this also warms the forecast cache).
for _ in $(seq 60); do
  ctl projection --scope ALL --months 1 >/dev/null 2>"$logs/health.log" && break
  sleep 1
done
ctl projection --scope ALL --months 1 >/dev/null || { echo "!! the forecast service does not answer" >&2; exit 1; }
echo "== forecast service on $forecast_addr"

start_service gateway "$logs/gateway.log" \
  "$bin/gateway" --port "$http_port" --case "$case_addr" --forecast "$forecast_addr" \
  --web "$root/clients/web/dist" --login identity --ca "$pki/ca.pem" --tls-client-cert "$pki/gateway.pem" \
  --tls-client-key "$pki/gateway.key" --tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
wait_for_line "${DEMO_PIDS[-1]}" "$logs/gateway.log" "listening on" 60
web="https://127.0.0.1:$http_port"
for _ in $(seq 100); do http_ok "$web/" "$pki/ca.pem" && break; sleep 0.2; done
http_ok "$web/" "$pki/ca.pem" || { echo "!! the gateway does not answer" >&2; exit 1; }

cat <<TEXT

==================================================================================
 Jobcentre Forecast demo is running (ready in $(( $(date +%s) - start )) s)

   Web app:      $web/   (HTTPS with the demo's own CA, $pki/ca.pem:
                 import it into the browser, or accept its warning once)
   Job centre:   $centre       (these passwords are new at every start; also in $logins)

   Caseworker:   $caseworker     password ${password[$caseworker]}
   Team leader:  $leader       password ${password[$leader]}   (the caseworker's team)
   Manager:      $manager       password ${password[$manager]}
   Admin:        $admin       password ${password[$admin]}

   Command line: $bin/forecastctl --server $case_addr --forecast $forecast_addr \\
                   --ca $pki/ca.pem --job-centre $centre --staff $leader login
                 $bin/forecastctl projection --scope ALL
   gRPC over TLS (CA $pki/ca.pem): case + identity service $case_addr, forecast service $forecast_addr
   Logs:         $logs/
 Stop: Ctrl-C here, or \`bash deploy/demo-stop.sh\` from another terminal.
==================================================================================
TEXT

# Run until Ctrl-C, or until a service ends on its own.
while true; do
  for i in "${!DEMO_PIDS[@]}"; do
    if ! kill -0 "${DEMO_PIDS[$i]}" 2>/dev/null; then
      sleep 1  # a Ctrl-C in flight is handled first
      echo "!! ${DEMO_NAMES[$i]} stopped; see $logs/${DEMO_NAMES[$i]}.log" >&2
      exit 1
    fi
  done
  sleep 1
done

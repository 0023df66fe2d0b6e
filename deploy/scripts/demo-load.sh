#!/usr/bin/env bash
# Loads the synthetic demo job centre into a running case service, once:
#   demo-load.sh BIN_DIR CONNINFO CASE_ADDR CENTRE DATA_DIR CA_FILE SESSION_DIR
# Creates the job centre, its departments, teams and staff (forecast-admin), then imports the
# generated cases with their history (forecastctl import, as the admin) and the open cases' next
# actions (as the manager), each signed in with `forecastctl login` (sessions in SESSION_DIR,
# with throw-away passwords; demo.sh sets the printed ones afterwards). Skips everything when the
# job centre already has cases, so a re-run of the demo keeps what people changed.
set -euo pipefail
bin=${1:?bin dir}
conninfo=${2:?conninfo}
case_addr=${3:?case service address}
centre=${4:?job centre code}
data=${5:?data dir}
ca=${6:?CA file}
sessions=${7:?session dir}

sql() { psql "$conninfo" -v ON_ERROR_STOP=1 -qtAX -c "$1"; }

cases=$(sql "SELECT count(*) FROM cases c JOIN job_centre j ON j.id = c.job_centre_id WHERE j.code = '$centre'")
if [ "$cases" -gt 0 ]; then
  echo "== job centre $centre already has $cases cases; not loading again"
  exit 0
fi

echo "== generating the synthetic job centre into $data"
"$bin/forecastctl" generate-demo --out "$data" --size demo

# The organisation, from units.csv and staff.csv. Names may hold quoted commas ("Teamleder,
# Team 1"), so the rows are read as CSV and handed on tab-separated.
tsv() { python3 -c 'import csv, sys; [print("\t".join(row)) for row in list(csv.reader(open(sys.argv[1])))[1:]]' "$1"; }
# forecast-admin's commands are idempotent.
"$bin/forecast-admin" create-job-centre --db "$conninfo" --code "$centre" --name "Jobcenter Demo" \
  --admin-code ADM1 --admin-name "Administrator"
tsv "$data/units.csv" | while IFS=$'\t' read -r code name kind parent; do
  args=(add-unit --db "$conninfo" --job-centre "$centre" --code "$code" --name "$name" --kind "$kind")
  [ -n "$parent" ] && args+=(--parent "$parent")
  "$bin/forecast-admin" "${args[@]}" >/dev/null
done
tsv "$data/staff.csv" | while IFS=$'\t' read -r code name role team; do
  args=(add-staff --db "$conninfo" --job-centre "$centre" --code "$code" --name "$name" --role "$role")
  [ -n "$team" ] && args+=(--team "$team")
  "$bin/forecast-admin" "${args[@]}" >/dev/null
done
echo "== organisation: $(sql "SELECT count(*) FROM org_unit u JOIN job_centre j ON j.id = u.job_centre_id WHERE j.code = '$centre'") units, $(sql "SELECT count(*) FROM staff s JOIN job_centre j ON j.id = s.job_centre_id WHERE j.code = '$centre'") staff"

# ctl STAFF ARGS...: forecastctl as STAFF, with that staff member's stored session.
mkdir -p "$sessions"
chmod 700 "$sessions"
ctl() {
  local staff=$1
  shift
  FORECASTCTL_CONFIG="$sessions/$staff.json" "$bin/forecastctl" --server "$case_addr" --ca "$ca" \
    --job-centre "$centre" --staff "$staff" "$@"
}
for staff in ADM1 MGR1; do
  password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
  printf '%s\n' "$password" | "$bin/forecast-admin" set-password --db "$conninfo" --job-centre "$centre" --code "$staff" >/dev/null
  printf '%s\n' "$password" | ctl "$staff" login --password-stdin >/dev/null
done

echo "== importing cases and their history (all or nothing)"
ctl ADM1 import --dir "$data" --create-missing-staff

echo "== recording the open cases' next actions"
ctl MGR1 action import --file "$data/actions.csv"

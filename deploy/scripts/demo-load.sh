#!/usr/bin/env bash
# Loads the synthetic demo job centre into a running case service, once:
#   demo-load.sh BIN_DIR CONNINFO CASE_ADDR CENTRE DATA_DIR CA_FILE SESSION_DIR
# The operator creates the job centre and its first admin (forecast-admin, the only step that needs
# the database); the admin then sets up departments, teams, staff and the job centre's own fields
# over gRPC (forecastctl org / staff / field, as a job centre would, audited), imports the
# generated cases with their history and fields (forecastctl import) and the manager the open
# cases' next actions. Each signs in with `forecastctl login` (sessions in SESSION_DIR, with
# throw-away passwords; demo.sh sets the printed ones afterwards). Skips everything when the job
# centre already has cases, so a re-run of the demo keeps what people changed.
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
"$bin/forecastctl" generate-demo --out "$data" --size demo --with-fields

# The operator's one step: the job centre and its first admin.
"$bin/forecast-admin" create-job-centre --db "$conninfo" --code "$centre" --name "Jobcenter Demo" \
  --admin-code ADM1 --admin-name "Administrator"

# ctl STAFF ARGS...: forecastctl as STAFF, with that staff member's stored session.
mkdir -p "$sessions"
chmod 700 "$sessions"
ctl() {
  local staff=$1
  shift
  FORECASTCTL_CONFIG="$sessions/$staff.json" "$bin/forecastctl" --server "$case_addr" --ca "$ca" \
    --job-centre "$centre" --staff "$staff" "$@"
}
login() {
  local password
  password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
  printf '%s\n' "$password" | "$bin/forecast-admin" set-password --db "$conninfo" --job-centre "$centre" --code "$1" >/dev/null
  printf '%s\n' "$password" | ctl "$1" login --password-stdin >/dev/null
}
login ADM1

# The organisation, from units.csv and staff.csv, set up by the admin over gRPC. Names may hold
# quoted commas ("Teamleder, Team 1"), so the rows are read as CSV and handed on tab-separated.
tsv() { python3 -c 'import csv, sys; [print("\t".join(row)) for row in list(csv.reader(open(sys.argv[1])))[1:]]' "$1"; }
tsv "$data/units.csv" | while IFS=$'\t' read -r code name kind parent; do
  if [ "$kind" = DEPARTMENT ]; then
    ctl ADM1 org add-department --code "$code" --name "$name" </dev/null >/dev/null
  else
    ctl ADM1 org add-team --code "$code" --name "$name" --department "$parent" </dev/null >/dev/null
  fi
done
tsv "$data/staff.csv" | while IFS=$'\t' read -r code name role team; do
  args=(staff add --code "$code" --name "$name" --role "$role")
  [ -n "$team" ] && args+=(--team "$team")
  ctl ADM1 "${args[@]}" </dev/null >/dev/null
done
echo "== organisation: $(sql "SELECT count(*) FROM org_unit u JOIN job_centre j ON j.id = u.job_centre_id WHERE j.code = '$centre'") units, $(sql "SELECT count(*) FROM staff s JOIN job_centre j ON j.id = s.job_centre_id WHERE j.code = '$centre'") staff"

# The job centre's own fields: "Har CV" comes with the imported cases; "I virksomhedspraktik"
# is for caseworkers to tick (the default milestone "Starter i virksomhedspraktik" counts it).
ctl ADM1 field set --code has_cv --label-da "Har CV" --label-en "Has a CV" --type BOOL --order 1 >/dev/null
ctl ADM1 field set --code in_internship --label-da "I virksomhedspraktik" --label-en "In a company internship" \
  --type BOOL --order 2 >/dev/null
login MGR1

echo "== importing cases and their history (all or nothing)"
ctl ADM1 import --dir "$data" --create-missing-staff

echo "== recording the open cases' next actions"
ctl MGR1 action import --file "$data/actions.csv"

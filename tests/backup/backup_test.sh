#!/usr/bin/env bash
# Backups restore to the same rows: a private cluster with the schema and a job centre's data,
# backed up with pg_dump and with pg_basebackup (deploy/scripts/backup.sh); the dump is restored
# into a fresh cluster, the base backup started as another one; every table's rows (an md5 of
# each table's ordered contents) must equal the original's.
#   backup_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "${1:?build dir}")
root=$(realpath "${2:?source dir}")
if [ "$(id -u)" != 0 ] && [ "$(id -un)" != postgres ]; then echo "backup test: needs root; skipped"; exit 0; fi
work=$build/tests/backup/run
pg=$root/deploy/scripts/pg.sh
bk=$root/deploy/scripts/backup.sh
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
rm -rf "$work"; mkdir -p "$work"; chmod 755 "$work"
cleanup() {
  bash "$pg" stop "$work/source" || true
  bash "$pg" stop "$work/fresh" || true
  [ -f "$work/base/postmaster.pid" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$work/base" -m fast -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
src_port=$(bash "$pg" start "$work/source")
# TCP needs scram-sha-256 passwords: pg.sh keeps them in each cluster's pgpass.
pass="passfile=$work/source/pgpass"
src="host=127.0.0.1 port=$src_port user=postgres dbname=postgres $pass"
psql "$src" -qc "CREATE DATABASE product"
db="host=127.0.0.1 port=$src_port user=postgres dbname=product $pass"
admin=$build/services/case/forecast-admin
"$admin" create-job-centre --db "$db" --code BAK --name "Backup" --admin-code adm --migrations "$root/deploy/migrations" >/dev/null
"$admin" add-unit --db "$db" --job-centre BAK --code T1 --name "Team 1" --kind TEAM >/dev/null
"$admin" add-staff --db "$db" --job-centre BAK --code cw1 --role CASEWORKER --team T1 >/dev/null
# Some cases with history, written the way the services write them (current row + case_event).
psql "$db" -v ON_ERROR_STOP=1 -q <<'SQL'
INSERT INTO cases (job_centre_id, case_ref, case_type, opened_on, caseworker_id, team_id)
SELECT j.id, 'B' || g, 'SDP', DATE '2024-01-01' + g % 300, s.id, s.team_id
FROM job_centre j, staff s, generate_series(1, 2000) g WHERE j.code = 'BAK' AND s.code = 'cw1';
SQL

# md5 of every table's rows in a stable order, one line per table.
fingerprint() {
  psql "$1" -Atq -v ON_ERROR_STOP=1 <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(t::text, ''|'' ORDER BY t::text)), ''-'') FROM %I.%I t',
              schemaname || '.' || tablename, schemaname, tablename)
FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1
\gexec
SQL
}
fingerprint "$db" >"$work/source.txt"
tables=$(wc -l <"$work/source.txt")

# 1. Logical: pg_dump, restored into a fresh cluster.
bash "$bk" dump "$db" "$work/product.dump"
# Restoring the roles brings their passwords along (scram hashes), so the fresh cluster is given
# the source's password file before its first start: after the restore they hold anyway.
mkdir -p "$work/fresh"; cp -p "$work/source/pgpass" "$work/fresh/pgpass"
fresh_port=$(bash "$pg" start "$work/fresh")
psql "host=127.0.0.1 port=$fresh_port user=postgres dbname=postgres $pass" -qc "CREATE DATABASE product"
fresh="host=127.0.0.1 port=$fresh_port user=postgres dbname=product $pass"
bash "$bk" restore "$work/product.dump" "$fresh"
fingerprint "$fresh" >"$work/restored.txt"

# 2. Physical: pg_basebackup with streamed WAL, started as its own cluster.
mkdir -p "$work/base" "$work/logs"; chown postgres:postgres "$work/base" "$work/logs"; chmod 700 "$work/base"
runuser -u postgres -- bash "$bk" base "$src" "$work/base"
base_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
runuser -u postgres -- "$bin/pg_ctl" -D "$work/base" -l "$work/logs/base.log" -w -t 60 start \
  -o "-p $base_port -k $work/base -c listen_addresses=127.0.0.1" >/dev/null
fingerprint "host=127.0.0.1 port=$base_port user=postgres dbname=product $pass" >"$work/base.txt"

ok=0
if diff -u "$work/source.txt" "$work/restored.txt"; then echo "pg_dump: restored $tables tables, same rows"; else ok=1; fi
if diff -u "$work/source.txt" "$work/base.txt"; then echo "pg_basebackup: $tables tables, same rows"; else ok=1; fi
grep "^public.cases " "$work/source.txt" || true
[ $ok = 0 ] && echo "backup test: PASS" || echo "backup test: FAIL"
exit $ok

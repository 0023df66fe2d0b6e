#!/usr/bin/env bash
# A private PostgreSQL cluster in a project-local folder, on a free port that it keeps.
#   pg.sh start DIR   -> initialises DIR if needed, starts the server, prints the port. A restart
#                        reuses the port stored in DIR/port while that port is free, so clients
#                        (and their connection strings) reconnect to the same address.
#   pg.sh stop DIR
# Runs the server as the 'postgres' system user (initdb refuses root); the socket lives in DIR.
#
# Authentication (issue 8): TCP connections need a scram-sha-256 password, for every role; there
# is no `trust` over TCP. The local socket accepts the `postgres` superuser without a password
# (`trust` on the socket only): DIR is mode 0700, so only the cluster's owner and root reach the
# socket; this script uses it to set the passwords. Passwords are generated here at the first
# start and kept in DIR/pgpass (mode 0600, libpq's password-file format), never in a command
# line, a log or the repository. Clients name it with `passfile=DIR/pgpass` in their conninfo.
# The services' roles (forecast_case_service, forecast_forecast_service) are created here with
# their passwords when missing; migration 0005 creates them password-less elsewhere, and
# migrations 0009-0011 grant their privileges.
set -euo pipefail
cmd=${1:?start|stop}
dir=$(realpath -m "${2:?data folder}")
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
roles=(postgres forecast_case_service forecast_forecast_service)

# shellcheck source=deploy/scripts/pg-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/pg-lib.sh"

write_hba() {
  cat >"$dir/data/pg_hba.conf" <<'HBA'
# Written by deploy/scripts/pg.sh. TCP: scram-sha-256 passwords for every role, no trust.
# The socket (in a mode-0700 folder) serves only the postgres superuser, for set-up.
# TYPE  DATABASE  USER      ADDRESS       METHOD
local   all       postgres                trust
host    all       all       127.0.0.1/32  scram-sha-256
host    all       all       ::1/128       scram-sha-256
host    replication all     127.0.0.1/32  scram-sha-256
host    replication all     ::1/128       scram-sha-256
HBA
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir/data/pg_hba.conf"; fi
  chmod 0600 "$dir/data/pg_hba.conf"
}

# Sets every role's password over the socket (stdin, not argv), creating missing service roles.
set_passwords() {
  pgpass_sql "$dir/pgpass" "${roles[@]}" | as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" \
    -p "$(cat "$dir/port")" -U postgres -d postgres -f - >/dev/null
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    chmod 0700 "$dir"
    pgpass_ensure "$dir/pgpass" "${roles[@]}"
    # Owned by the cluster's user too, so that tools run as postgres (pg_basebackup) read it.
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir" "$dir/pgpass"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    fi
    write_hba
    if [ -f "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_pg "$bin/pg_ctl" -D "$dir/data" reload >/dev/null
      set_passwords
      cat "$dir/port"; exit 0
    fi
    port=$(free_port "$(cat "$dir/port" 2>/dev/null || echo 0)")
    echo "$port" >"$dir/port"
    # A server killed with -9 leaves postmaster.pid behind; pg_ctl copes when its pid is gone.
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on -c shared_buffers=256MB -c password_encryption=scram-sha-256" >/dev/null
    set_passwords
    echo "$port"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: pg.sh start|stop DIR" >&2; exit 2 ;;
esac

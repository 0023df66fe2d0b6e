#!/usr/bin/env bash
# PostgreSQL high availability on one machine with pg_auto_failover (Debian's
# postgresql-15-auto-failover): a monitor and two nodes (primary + synchronous standby) on
# loopback ports, run as the 'postgres' system user, data and logs under DIR (e.g. .var/ha).
#
#   ha.sh start DIR        create (first time) and start monitor + node1 + node2; waits until a
#                          primary and a secondary are in sync; prints the services' conninfo
#   ha.sh stop DIR         stop everything (fast)
#   ha.sh conninfo DIR     multi-host connection string: both nodes, target_session_attrs=read-write
#   ha.sh state DIR        pg_autoctl show state
#   ha.sh primary DIR      name of the current primary (node1|node2), empty when none
#   ha.sh writable DIR     name of the node that takes writes now (primary, or wait_primary while
#                          its standby is missing), empty when none
#   ha.sh kill-node DIR N  kill -9 node N's keeper and its PostgreSQL (a machine dying)
#   ha.sh start-node DIR N start node N's keeper again (it rejoins as a standby)
#   ha.sh wait-sync DIR [S] wait up to S seconds (default 120) for primary + secondary in sync
#
# Failover settles within about 5-10 s: the monitor's health checks are tightened (1 s period,
# 3 s to call a node unhealthy) and it waits 3 s (default 30 s) for a lost primary to confirm its
# demotion. Writes are acknowledged only once the standby has them (synchronous_commit on,
# synchronous_standby_names set by pg_autoctl), so a failover loses no acknowledged write; and a
# cut-off old primary that has not demoted itself yet cannot acknowledge writes either, because
# its synchronous standby is gone (only the monitor can switch synchronous replication off).
#
# Authentication (issue 8), as deploy/scripts/pg.sh: every TCP connection needs a scram-sha-256
# password, on the monitor and on both nodes; there is no `trust` at all. The local socket takes
# only the `postgres` superuser, and only from the `postgres` system user (`peer`), for set-up.
# Passwords are generated at the first start into DIR/pgpass (mode 0600, libpq's format): for
# postgres, the services' roles (forecast_case_service, forecast_forecast_service, created here),
# pg_auto_failover's autoctl_node (keepers -> monitor) and pgautofailover_replicator (streaming
# replication, pg_basebackup, pg_rewind). Every pg_autoctl process and PostgreSQL server gets
# PGPASSFILE=DIR/pgpass, and the printed conninfo names it (passfile=). The monitor's health
# check (user pgautofailover_monitor) needs no password: an authentication request already tells
# it the node is up, so that role has none and cannot log in. pg_autoctl edits no pg_hba.conf
# (--skip-pg-hba, which excludes its --auth option); this script writes them.
set -euo pipefail
cmd=${1:?start|stop|conninfo|state|primary|kill-node|start-node|wait-sync}
dir=$(realpath -m "${2:?data folder}")
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
# shellcheck source=deploy/scripts/pg-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/pg-lib.sh"
node_roles=(postgres forecast_case_service forecast_forecast_service pgautofailover_replicator)
monitor_roles=(autoctl_node)
pg_env=(env HOME="$dir" XDG_CONFIG_HOME="$dir/config" XDG_DATA_HOME="$dir/share" XDG_RUNTIME_DIR="$dir/run"
  PGPASSFILE="$dir/pgpass" PATH="$bin:$PATH")
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    # setpriv execs (no fork), so a background keeper's $! is the keeper itself.
    setpriv --reuid=postgres --regid=postgres --init-groups "${pg_env[@]}" "$@"
  else
    "${pg_env[@]}" "$@"
  fi
}

exec_as_pg() {
  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${pg_env[@]}" "$@"
  else
    exec "${pg_env[@]}" "$@"
  fi
}

port_of() { cat "$dir/$1.port"; }
monitor_uri() { echo "postgres://autoctl_node@127.0.0.1:$(port_of monitor)/pg_auto_failover?sslmode=disable"; }

# write_hba NAME: scram-sha-256 for every connection (replication included), except the postgres
# superuser from the postgres system user on the socket (peer). `pg_autoctl show state` reaches
# the monitor's socket as autoctl_node, with its password.
write_hba() {
  cat >"$dir/$1/pg_hba.conf" <<'HBA'
# Written by deploy/ha/ha.sh. TCP: scram-sha-256 passwords for every role, no trust.
# On the socket, the postgres superuser only for the postgres system user (set-up).
# TYPE  DATABASE     USER      ADDRESS       METHOD
local   all          postgres                peer
local   all          all                     scram-sha-256
host    all          all       127.0.0.1/32  scram-sha-256
host    replication  all       127.0.0.1/32  scram-sha-256
HBA
  chmod 0600 "$dir/$1/pg_hba.conf"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir/$1/pg_hba.conf"; fi
}

# psql_local NAME: runs the SQL on stdin as postgres over NAME's local socket; retried for up
# to 60 s while the server (re)starts (pg_autoctl restarts it after `create`).
psql_local() {
  local sock sql i
  sql=$(cat)
  sock=$(as_pg pg_autoctl config get --pgdata "$dir/$1" postgresql.host 2>/dev/null || true)
  [ -d "$sock" ] || sock=/var/run/postgresql
  for i in $(seq 1 120); do
    printf '%s\n' "$sql" | as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$(port_of "$1")" \
      -U postgres -d postgres -f - >/dev/null 2>"$dir/psql.err" && return 0
    sleep 0.5
  done
  cat "$dir/psql.err" >&2
  return 1
}

# set_passwords NAME ROLE...: the roles' passwords from DIR/pgpass (stdin, never argv).
set_passwords() {
  local name=$1
  shift
  pgpass_sql "$dir/pgpass" "$@" | psql_local "$name"
}

# Starts one pg_autoctl process (monitor or node keeper) in the background, logging to DIR/NAME.log.
run_keeper() {
  local name=$1
  if [ -f "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then return 0; fi
  # setsid: the keeper leads its own process group, so kill-node can end all of it at once.
  # exec in the background subshell: $! is the keeper itself (setpriv, env and setsid all exec).
  (exec_as_pg setsid pg_autoctl run --pgdata "$dir/$name" >>"$dir/$name.log" 2>&1 </dev/null) &
  echo $! >"$dir/$name.pid"
}

state_rows() {
  as_pg pg_autoctl show state --pgdata "$dir/monitor" --json 2>/dev/null || echo '[]'
}

primary() {
  state_rows | python3 -c '
import json, sys
rows = json.load(sys.stdin)
p = [r["nodename"] for r in rows if r.get("current_group_state") == "primary" and r.get("assigned_group_state") == "primary"]
print(p[0] if p else "")'
}

single_or_primary() {
  state_rows | python3 -c '
import json, sys
rows = json.load(sys.stdin)
p = [r["nodename"] for r in rows
     if r.get("current_group_state") in ("single", "primary", "wait_primary")
     and r.get("assigned_group_state") == r.get("current_group_state")]
print(p[0] if p else "")'
}

wait_sync() {
  local limit=${1:-120} t=0
  while [ $t -lt $((limit * 2)) ]; do
    if state_rows | python3 -c '
import json, sys
rows = json.load(sys.stdin)
states = sorted((r["current_group_state"], r["assigned_group_state"]) for r in rows)
sys.exit(0 if states == [("primary", "primary"), ("secondary", "secondary")] else 1)'; then
      return 0
    fi
    sleep 0.5; t=$((t + 1))
  done
  echo "ha.sh: primary and secondary not in sync after ${limit}s" >&2
  as_pg pg_autoctl show state --pgdata "$dir/monitor" >&2 || true
  return 1
}

conninfo() {
  echo "host=127.0.0.1,127.0.0.1 port=$(port_of node1),$(port_of node2) user=postgres dbname=postgres target_session_attrs=read-write connect_timeout=2 passfile=$dir/pgpass"
}

case "$cmd" in
  start)
    mkdir -p "$dir" "$dir/run"
    chmod 700 "$dir/run"
    pgpass_ensure "$dir/pgpass" "${node_roles[@]}" "${monitor_roles[@]}"
    if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$dir"; fi
    for n in monitor node1 node2; do
      [ -f "$dir/$n.port" ] || free_port >"$dir/$n.port"
    done
    if [ ! -f "$dir/monitor/PG_VERSION" ]; then
      as_pg pg_autoctl create monitor --pgdata "$dir/monitor" --pgport "$(port_of monitor)" \
        --hostname 127.0.0.1 --listen 127.0.0.1 --skip-pg-hba --no-ssl \
        --pgctl "$bin/pg_ctl" >>"$dir/monitor.log" 2>&1 || { tail -n 20 "$dir/monitor.log" >&2; exit 1; }
      write_hba monitor
      # Fast failure detection (defaults: 5 s period, 20 s to call a node unhealthy).
      cat >>"$dir/monitor/postgresql.conf" <<'CONF'
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 3000
pgautofailover.primary_demote_timeout = 3000
CONF
    fi
    run_keeper monitor
    for i in $(seq 1 120); do
      as_pg pg_isready -q -h 127.0.0.1 -p "$(port_of monitor)" && break; sleep 0.5
    done
    # Reloaded: a monitor created by an older ha.sh gets the scram-only rules too.
    write_hba monitor
    as_pg "$bin/pg_ctl" -D "$dir/monitor" reload >/dev/null
    set_passwords monitor "${monitor_roles[@]}"
    for n in node1 node2; do
      if [ ! -f "$dir/$n/PG_VERSION" ]; then
        as_pg pg_autoctl create postgres --pgdata "$dir/$n" --pgport "$(port_of $n)" --name "$n" \
          --hostname 127.0.0.1 --listen 127.0.0.1 --monitor "$(monitor_uri)" --skip-pg-hba \
          --no-ssl --pgctl "$bin/pg_ctl" --replication-quorum true --candidate-priority 50 \
          >>"$dir/$n.log" 2>&1 || { tail -n 20 "$dir/$n.log" >&2; exit 1; }
        if [ "$n" = node1 ]; then
          # The standby's base backup copies this.
          cat >>"$dir/node1/postgresql.conf" <<'CONF'
max_connections = 300
listen_addresses = '127.0.0.1'
password_encryption = 'scram-sha-256'
CONF
        fi
      fi
      write_hba "$n"
      # `create` may leave PostgreSQL running under initdb's rules: these take effect now.
      if as_pg "$bin/pg_ctl" -D "$dir/$n" status >/dev/null 2>&1; then
        as_pg "$bin/pg_ctl" -D "$dir/$n" reload >/dev/null
      fi
      run_keeper "$n"
      if [ "$n" = node1 ]; then
        for i in $(seq 1 240); do [ -n "$(single_or_primary)" ] && break; sleep 0.5; done
        # Before node2's base backup: the replicator's password. The standby gets every role by
        # replication. pgautofailover_monitor loses pg_autoctl's built-in password (see above).
        set_passwords node1 "${node_roles[@]}"
        echo "ALTER ROLE pgautofailover_monitor PASSWORD NULL;" | psql_local node1
      fi
    done
    wait_sync 180
    conninfo
    ;;
  stop)
    for n in node2 node1 monitor; do
      if [ -f "$dir/$n.pid" ]; then
        pid=$(cat "$dir/$n.pid")
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        rm -f "$dir/$n.pid"
      fi
      [ -f "$dir/$n/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/$n" -m fast -w stop >/dev/null 2>&1 || true
    done
    ;;
  conninfo) conninfo ;;
  state) as_pg pg_autoctl show state --pgdata "$dir/monitor" ;;
  primary) primary ;;
  writable) single_or_primary ;;
  wait-sync) wait_sync "${3:-120}" ;;
  kill-node)
    n=${3:?node1|node2}
    # The keeper's process group (its supervised services), then the postmaster and its backends.
    [ -f "$dir/$n.pid" ] && kill -9 -- "-$(cat "$dir/$n.pid")" 2>/dev/null || true
    if [ -f "$dir/$n/postmaster.pid" ]; then
      pm=$(head -n 1 "$dir/$n/postmaster.pid")
      kill -9 "$pm" 2>/dev/null || true
      pkill -9 -P "$pm" 2>/dev/null || true
    fi
    rm -f "$dir/$n.pid"
    ;;
  start-node) run_keeper "${3:?node1|node2}" ;;
  *) echo "usage: ha.sh start|stop|conninfo|state|primary|kill-node|start-node|wait-sync DIR" >&2; exit 2 ;;
esac

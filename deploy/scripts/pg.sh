#!/usr/bin/env bash
# A private PostgreSQL cluster in a project-local folder, on a free port that it keeps.
#   pg.sh start DIR   -> initialises DIR if needed, starts the server, prints the port. A restart
#                        reuses the port stored in DIR/port while that port is free, so clients
#                        (and their connection strings) reconnect to the same address.
#   pg.sh stop DIR
# Runs the server as the 'postgres' system user (initdb refuses root); the socket lives in DIR.
set -euo pipefail
cmd=${1:?start|stop}
dir=$(realpath -m "${2:?data folder}")
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

free_port() {
  python3 - "${1:-0}" <<'PY'
import socket, sys
want = int(sys.argv[1])
for port in ([want] if want else []) + [0]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port)); print(s.getsockname()[1]); break
    except OSError:
        pass
    finally:
        s.close()
PY
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    fi
    if [ -f "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      cat "$dir/port"; exit 0
    fi
    port=$(free_port "$(cat "$dir/port" 2>/dev/null || echo 0)")
    echo "$port" >"$dir/port"
    # A server killed with -9 leaves postmaster.pid behind; pg_ctl copes when its pid is gone.
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on -c shared_buffers=256MB" >/dev/null
    echo "$port"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: pg.sh start|stop DIR" >&2; exit 2 ;;
esac

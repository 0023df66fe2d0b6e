# Shared by deploy/scripts/pg.sh (one private cluster) and deploy/ha/ha.sh (the pg_auto_failover
# pair): free loopback ports and scram-sha-256 passwords kept in a libpq password file.
# Source it; it defines functions only.
#
# Password file: one line per role, `*:*:*:ROLE:PASSWORD` (libpq's format), mode 0600, generated
# once and never printed, logged or passed on a command line. Clients name it with
# `passfile=FILE` in their conninfo (or PGPASSFILE).

# free_port [WANT]: WANT when it is free on 127.0.0.1, else any free port.
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

new_password() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }

# pgpass_password FILE ROLE: the role's password from FILE (empty when missing).
pgpass_password() { awk -F: -v r="$2" '$4 == r { print $5; exit }' "$1"; }

# pgpass_ensure FILE ROLE...: adds a generated password for every ROLE that FILE lacks; keeps the
# passwords already there (a running cluster has them).
pgpass_ensure() {
  local file=$1 role
  shift
  (
    umask 077
    [ -f "$file" ] && cat "$file" >"$file.new" || : >"$file.new"
    for role in "$@"; do
      [ -n "$(pgpass_password "$file.new" "$role")" ] && continue
      printf '*:*:*:%s:%s\n' "$role" "$(new_password)" >>"$file.new"
    done
  )
  mv "$file.new" "$file"
  chmod 0600 "$file"
}

# pgpass_sql FILE ROLE...: SQL (for psql's stdin, never argv) that gives every ROLE its password
# from FILE with scram-sha-256, creating a missing role (other than postgres) with LOGIN.
pgpass_sql() {
  local file=$1 role pw
  shift
  printf '%s\n' "SET password_encryption = 'scram-sha-256';"
  for role in "$@"; do
    pw=$(pgpass_password "$file" "$role")
    [ -n "$pw" ] || { echo "pg-lib: no password for $role in $file" >&2; return 1; }
    if [ "$role" != postgres ]; then
      printf '%s\n' "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE $role LOGIN; END IF; END \$\$;"
    fi
    printf '%s\n' "ALTER ROLE $role WITH LOGIN PASSWORD '$pw';"
  done
}

#!/usr/bin/env bash
# Backups of the product's database. Two ways, both tested by tests/backup/backup_test.sh:
#
#   backup.sh dump    CONNINFO FILE      logical backup (pg_dump, custom format, compressed), and
#                                        the cluster's roles (pg_dumpall --roles-only) in FILE.roles.sql
#   backup.sh restore FILE CONNINFO      restore a dump into an empty database: the roles first (ones
#                                        that exist already are kept, but take the dumped
#                                        attributes and scram passwords), then the data (pg_restore)
#   backup.sh base    CONNINFO DIR       physical base backup (pg_basebackup, WAL streamed in), a
#                                        ready data folder: start it with pg_ctl -D DIR
#
# For point-in-time recovery, archive WAL continuously as well (postgresql.conf on the primary):
#   archive_mode = on
#   archive_command = 'test ! -f /backup/wal/%f && cp %p /backup/wal/%f'
# and restore a base backup with restore_command = 'cp /backup/wal/%f %p' plus
# recovery_target_time, and an empty recovery.signal file in the data folder.
set -euo pipefail
cmd=${1:?dump|restore|base}
case "$cmd" in
  dump)
    pg_dumpall --roles-only --dbname "${2:?conninfo}" >"${3:?file}.roles.sql"
    pg_dump --format=custom --compress=6 --no-owner --file "$3" "$2" ;;
  restore)
    if [ -f "${2:?file}.roles.sql" ]; then
      psql --quiet --no-psqlrc --dbname "${3:?conninfo}" --file "$2.roles.sql" 2>&1 |
        grep -v 'already exists' >&2 || true
    fi
    pg_restore --exit-on-error --no-owner --dbname "$3" "$2" ;;
  base)    pg_basebackup --dbname "${2:?conninfo}" --pgdata "${3:?dir}" --wal-method=stream \
             --checkpoint=fast --no-password ;;
  *) echo "usage: backup.sh dump|restore|base ..." >&2; exit 2 ;;
esac

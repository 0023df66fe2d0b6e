#!/usr/bin/env bash
# Backups of the product's database. Two ways, both tested by tests/backup/backup_test.sh:
#
#   backup.sh dump    CONNINFO FILE      logical backup (pg_dump, custom format, compressed)
#   backup.sh restore FILE CONNINFO      restore a dump into an empty database (pg_restore)
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
  dump)    pg_dump --format=custom --compress=6 --no-owner --file "${3:?file}" "${2:?conninfo}" ;;
  restore) pg_restore --exit-on-error --no-owner --dbname "${3:?conninfo}" "${2:?file}" ;;
  base)    pg_basebackup --dbname "${2:?conninfo}" --pgdata "${3:?dir}" --wal-method=stream \
             --checkpoint=fast --no-password ;;
  *) echo "usage: backup.sh dump|restore|base ..." >&2; exit 2 ;;
esac

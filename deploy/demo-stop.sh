#!/usr/bin/env bash
# Stops a running deploy/demo.sh from another terminal: the demo script gets SIGTERM and stops
# the services and its PostgreSQL cluster as on Ctrl-C. DEMO_VAR as for demo.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
var=${DEMO_VAR:-$root/.var}
pidfile=$var/demo.pid
if [ ! -f "$pidfile" ]; then
  echo "no demo is running (no $pidfile)"
  exit 0
fi
pid=$(cat "$pidfile")
if ! kill -0 "$pid" 2>/dev/null; then
  echo "the demo (pid $pid) is not running any more"
  rm -f "$pidfile"
  exit 0
fi
kill -TERM "$pid"
for _ in $(seq 60); do
  kill -0 "$pid" 2>/dev/null || { echo "demo stopped"; exit 0; }
  sleep 0.5
done
echo "the demo (pid $pid) did not stop within 30 s" >&2
exit 1

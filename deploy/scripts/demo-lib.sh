# Helpers for deploy/demo.sh (sourced, not run): ports, starting services, waiting for them.

# port_or_free PREFERRED: PREFERRED when nothing listens on it, else a free port.
port_or_free() {
  python3 - "$1" <<'PY'
import socket, sys
preferred = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", preferred))
    print(preferred)
except OSError:
    s.close()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
s.close()
PY
}

# start_service NAME LOG COMMAND...: starts COMMAND in the background with its output in LOG and
# records its pid in DEMO_PIDS (an array the caller declares) and NAME in DEMO_NAMES. The service
# gets its own session, so Ctrl-C reaches only the demo script, which then stops the services
# in order (gateway first, PostgreSQL last).
start_service() {
  local name=$1 log=$2
  shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  DEMO_PIDS+=($!)
  DEMO_NAMES+=("$name")
}

# wait_for_line PID LOG PATTERN SECONDS: waits until LOG contains PATTERN (grep -E); fails when the
# process PID ends first or time runs out, printing the log's tail.
wait_for_line() {
  local pid=$1 log=$2 pattern=$3 seconds=$4 waited=0
  while ! grep -Eq "$pattern" "$log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "!! process $pid ended before it was ready; the end of $log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    if [ "$waited" -ge $((seconds * 10)) ]; then
      echo "!! not ready after ${seconds}s; the end of $log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# http_ok URL [CA]: true when URL answers 2xx (https checked against the CA file, when given).
http_ok() {
  python3 - "$1" "${2:-}" <<'PY'
import ssl, sys, urllib.request
try:
    context = ssl.create_default_context(cafile=sys.argv[2]) if sys.argv[2] else None
    with urllib.request.urlopen(sys.argv[1], timeout=5, context=context) as r:
        sys.exit(0 if 200 <= r.status < 300 else 1)
except Exception:
    sys.exit(1)
PY
}

# stop_services: TERM to every recorded process, newest first; KILL after 10 s.
stop_services() {
  local i pid
  for ((i = ${#DEMO_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${DEMO_PIDS[$i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "== ${DEMO_NAMES[$i]} did not stop in 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  DEMO_PIDS=()
  DEMO_NAMES=()
}

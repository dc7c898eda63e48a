#!/bin/sh
# Start/stop the sample app on a node: what an environment's start and stop hooks run.
#
#   sh current/ctl.sh start|stop|restart|status       (cwd = the deploy directory, DIR)
#
# Layout it expects in DIR: current -> the active release (holding server.mjs), run/ for its pidfile and log,
# and an optional app.env (sourced; per-node settings such as PORT=8081, so one hook command fits every node).
# Settings: PORT (default 8080), HOST (default 127.0.0.1), START_TIMEOUT and STOP_TIMEOUT in seconds (default 30),
# NODE (default: node on PATH). APP_DIR overrides DIR (default: the working directory).
#
# Whichever release's copy of this script runs, it manages the app through DIR/run/app.pid, so a new release's
# script can stop the old release's process. Exit codes: 0 ok, 1 failed, 3 (status) not running.
set -eu

DIR=${APP_DIR:-$(pwd)}
cd "$DIR"
if [ -f ./app.env ]; then
  # shellcheck disable=SC1091
  . ./app.env
fi
PORT=${PORT:-8080}
HOST=${HOST:-127.0.0.1}
START_TIMEOUT=${START_TIMEOUT:-30}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
NODE=${NODE:-node}
RUN_DIR="$DIR/run"
PIDFILE="$RUN_DIR/app.pid"
LOGFILE="$RUN_DIR/app.log"

say() { echo "sample-app: $*"; }
fail() { echo "sample-app: $*" >&2; exit 1; }

# Alive and not a zombie: a stopped process stays in the table until its parent (often PID 1) reaps it.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/stat" ]; then
    state=$(sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null || true)
    [ "$state" != "Z" ] && [ "$state" != "X" ] || return 1
  fi
  return 0
}

# The pid in the pidfile, if it is alive and still our app (after a reboot or a crash the number may be reused).
running_pid() {
  [ -f "$PIDFILE" ] || return 1
  pid=$(tr -dc '0-9' <"$PIDFILE" 2>/dev/null || true)
  [ -n "$pid" ] || return 1
  alive "$pid" || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'server\.mjs' || return 1
  fi
  echo "$pid"
}

# Prints the HTTP status of /health, or fails when nothing answers.
probe() {
  check_host=$HOST
  case "$check_host" in 0.0.0.0 | :: | "") check_host=127.0.0.1 ;; esac
  "$NODE" -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(1000) })
      .then((r) => { console.log(String(r.status)); process.exit(0); }, () => process.exit(1));
  ' "http://$check_host:$PORT/health" 2>/dev/null
}

start() {
  if pid=$(running_pid); then
    say "already running (pid $pid)"
    return 0
  fi
  rm -f "$PIDFILE"
  [ -f current/server.mjs ] || fail "no current/server.mjs in $DIR"
  mkdir -p "$RUN_DIR"
  # setsid + nohup + no inherited descriptors: the app outlives the hook and its process group, and the hook
  # runner is not kept waiting on a pipe the app holds open.
  detach=""
  if command -v setsid >/dev/null 2>&1; then detach=setsid; fi
  PORT=$PORT HOST=$HOST $detach nohup "$NODE" current/server.mjs </dev/null >>"$LOGFILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PIDFILE.tmp"
  mv "$PIDFILE.tmp" "$PIDFILE"
  deadline=$(($(date +%s) + START_TIMEOUT))
  while :; do
    if ! alive "$pid"; then
      rm -f "$PIDFILE"
      tail -n 20 "$LOGFILE" >&2 || true
      fail "exited during start (see $LOGFILE)"
    fi
    if status=$(probe) && alive "$pid"; then
      say "started (pid $pid, port $PORT, /health answered $status)"
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      rm -f "$PIDFILE"
      fail "no answer on port $PORT within ${START_TIMEOUT}s (see $LOGFILE)"
    fi
    sleep 0.1
  done
}

stop() {
  if ! pid=$(running_pid); then
    if [ -f "$PIDFILE" ]; then say "not running (removed stale pidfile)"; else say "not running"; fi
    rm -f "$PIDFILE"
    return 0
  fi
  # SIGTERM: the app stops accepting, finishes in-flight requests and exits.
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$(($(date +%s) + STOP_TIMEOUT))
  while alive "$pid"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "pid $pid still running after ${STOP_TIMEOUT}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.05
  done
  rm -f "$PIDFILE"
  say "stopped (pid $pid)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop && start ;;
  status)
    if pid=$(running_pid); then say "running (pid $pid)"; else say "not running"; exit 3; fi
    ;;
  *)
    echo "usage: ctl.sh start|stop|restart|status (cwd = deploy directory)" >&2
    exit 2
    ;;
esac

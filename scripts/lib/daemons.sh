# Sourced by the scripts that start the tests' real servers on 127.0.0.1 (rgw-up.sh,
# platform-servers.sh, realk8s.sh): what each of them needs to run daemons it can find again.
# The sourcing script sets DIR (its state folder, with log/ and pids/), START_TIMEOUT, SCRIPT,
# a `die` function, and `mark_of NAME`: a string in that daemon's command line that ties the
# running process to DIR, so that a recycled pid is never taken for ours.
# LOG_SUFFIX (default out) names the daemons' log files, DIR/log/NAME.LOG_SUFFIX.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pid_of() { # the pid recorded for a daemon, if that process still runs (and is still ours)
  local file=$DIR/pids/$1 pid
  [ -s "$file" ] || return 1
  pid=$(cat "$file")
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(mark_of "$1")" && echo "$pid"
}

launch() { # launch NAME COMMAND...: run a daemon in the foreground of a background job, keep its pid
  local name=$1
  shift
  "$@" </dev/null >>"$DIR/log/$name.${LOG_SUFFIX:-out}" 2>&1 &
  echo $! >"$DIR/pids/$name"
}

wait_until() { # wait_until WHAT COMMAND...: poll COMMAND until it succeeds, START_TIMEOUT at most
  local deadline=$((SECONDS + START_TIMEOUT)) what=$1
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what did not happen within $START_TIMEOUT s (logs: $DIR/log)"
    sleep 0.2
  done
}

start_watchdog() { # start_watchdog PID STOP_VERB: run `SCRIPT STOP_VERB DIR` once PID is gone
  local watched=$1 verb=$2
  [ -n "$watched" ] || return 0
  pid_of watchdog >/dev/null && return 0
  # Polls once a second, a cheap loop; the pid file goes first so that the stop verb does not
  # wait for this very process.
  (
    trap '' HUP
    while kill -0 "$watched" 2>/dev/null; do sleep 1; done
    rm -f "$DIR/pids/watchdog"
    "$SCRIPT" "$verb" "$DIR"
  ) </dev/null >>"$DIR/log/watchdog.${LOG_SUFFIX:-out}" 2>&1 &
  echo $! >"$DIR/pids/watchdog"
}

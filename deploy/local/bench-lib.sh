# Shared by the benchmark scripts (sourced): start services in fresh consumer groups, stop them,
# read the clock and a process's peak memory. Expects `bin` (the release executables' folder).
pids=()
run=0

join_group() {  # join_group NAME LOG [ARGS...]: starts a service and waits until it has partitions
  local name=$1 log=$2; shift 2
  : >"$log"
  # A new group per run, starting at the end of its topics: earlier runs' messages are not replayed,
  # and no join waits on the departed members of an earlier run (the broker can stall on those).
  "$bin/$name" --group "bench-$name-$$-$run" -X auto.offset.reset=latest \
    -X session.timeout.ms=6000 -X max.poll.interval.ms=30000 "$@" >"$log" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + 90))
  until grep -q "partitions assigned" "$log"; do
    [ $SECONDS -lt $deadline ] || { echo "$name did not join its group" >&2; tail "$log" >&2; exit 1; }
    sleep 0.2
  done
}

stop_services() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
  run=$((run + 1))
}

now() { date +%s.%N; }
peak_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

restart_broker() {  # an empty broker (it keeps everything in memory) with jobstream's topics
  echo "== restarting the broker (it keeps everything in memory)"
  deploy/local/broker.sh stop >/dev/null 2>&1 || true
  deploy/local/broker.sh start
  "$bin/jobstream" topics create >/dev/null
}

# summary WHAT FIGURE OP AIM: one row of `make bench`'s table — a figure, its aim (OP is >= or <)
# and whether it holds — printed as a tab-separated SUMMARY line for deploy/local/bench-all.sh to gather.
summary() {
  local holds
  holds=$(awk -v v="$2" -v a="$4" -v op="$3" 'BEGIN { print ((op == ">=" ? v + 0 >= a + 0 : v + 0 < a + 0) ? "yes" : "**no**") }')
  printf 'SUMMARY\t%s\t%s\t%s %s\t%s\n' "$1" "$2" "$3" "$4" "$holds"
}

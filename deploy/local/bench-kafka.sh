#!/usr/bin/env bash
# `make bench-kafka`: the Swift Kafka layer against librdkafka's own tools, on the same broker in
# the same run. The broker is restarted before every case (its memory storage slows as it fills).
#
# Usage: bench-kafka.sh KAFKA_BENCH RDKAFKA_PERFORMANCE
set -euo pipefail
bench=$1 perf=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
brokers=${BROKER_ADDRESS:-127.0.0.1:9092}
out=$root/.local/bench
mkdir -p "$out"
SMALL=${BENCH_SMALL_COUNT:-2000000} LARGE=${BENCH_LARGE_COUNT:-500000} RTT=${BENCH_RTT_COUNT:-1000}

cc -O2 -o "$out/rtt" "$root/deploy/local/bench/rtt.c" $(pkg-config --cflags --libs rdkafka)

# The consumer settings kafka-bench uses (its ConsumerConfiguration), given to rdkafka_performance too,
# whose own defaults differ (queued.min.messages=1000000).
group_settings=(-X session.timeout.ms=6000 -X max.poll.interval.ms=10000 -X partition.assignment.strategy=cooperative-sticky
                -X queued.min.messages=100000 -X fetch.queue.backoff.ms=10 -X fetch.wait.max.ms=500)
fresh_topic() {  # name partitions
  "$root/deploy/local/broker.sh" restart >/dev/null
  "$bench" create-topic --brokers $brokers --topic "$1" --partitions "$2" --log-level warning >/dev/null
}
rate() { grep -o '[0-9.]* msgs/s' | tail -1 | cut -d' ' -f1; }
swift_rate() { grep '^msgs/s:' | awk '{print $2}'; }
ratio() { awk -v s="$1" -v r="$2" 'BEGIN { printf "%.2f", s / r }'; }
perf_produce() {  # topic size count
  "$perf" -P -t "$1" -b $brokers -s "$2" -c "$3" -X enable.idempotence=true -X acks=all -X linger.ms=5 -q 2>&1 | rate
}

report() {  # case raw swift
  printf '%-20s librdkafka %10s msgs/s   swift %10s msgs/s\n' "$1:" "$2" "$3"
  printf 'ratio %s: %s\n' "$1" "$(ratio "$3" "$2")"
}

for spec in "100B 100 $SMALL" "1KB 1024 $LARGE"; do
  read -r label size count <<<"$spec"

  fresh_topic jobstream.bench.produce 6
  raw=$(perf_produce jobstream.bench.produce "$size" "$count")
  fresh_topic jobstream.bench.produce 6
  swift=$("$bench" produce --brokers $brokers --topic jobstream.bench.produce --size "$size" --count "$count" --log-level warning | swift_rate)
  report "produce $label" "$raw" "$swift"

  fresh_topic jobstream.bench.consume 6
  perf_produce jobstream.bench.consume "$size" "$count" >/dev/null
  raw=$("$perf" -G bench-raw -t jobstream.bench.consume -b $brokers -c "$count" -X auto.offset.reset=earliest \
        "${group_settings[@]}" -q 2>&1 | rate)
  swift=$("$bench" consume --brokers $brokers --topic jobstream.bench.consume --group bench-swift --count "$count" \
          --log-level warning | swift_rate)
  report "consume $label" "$raw" "$swift"
done

fresh_topic jobstream.bench.rtt 1
raw=$("$out/rtt" $brokers jobstream.bench.rtt "$RTT")
swift=$("$bench" latency --brokers $brokers --topic jobstream.bench.rtt --count "$RTT" --log-level warning)
for p in p50 p99; do
  r=$(grep "^$p ms:" <<<"$raw" | awk '{print $3}')
  s=$(grep "^$p ms:" <<<"$swift" | awk '{print $3}')
  printf 'latency %s: librdkafka %s ms   swift %s ms   difference %s ms\n' "$p" "$r" "$s" \
    "$(awk -v s="$s" -v r="$r" 'BEGIN { printf "%+.3f", s - r }')"
done
"$root/deploy/local/broker.sh" stop >/dev/null

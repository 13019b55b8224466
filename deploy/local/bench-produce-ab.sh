#!/usr/bin/env bash
# `make bench-produce-ab BASE=REV`: producing at another revision against the working tree, in one run.
# Builds kafka-bench in release at REV (in a temporary git worktree) and here, then alternates
# `kafka-bench produce --size 100 --count 2000000` on a 6-partition topic between the two, the broker
# restarted before each run, ROUNDS rounds per side (default 7). Prints each rate; take the medians.
set -euo pipefail
base=${1:?usage: bench-produce-ab.sh BASE_REV [ROUNDS]} rounds=${2:-7}
root=$(cd "$(dirname "$0")/../.." && pwd)
brokers=${BROKER_ADDRESS:-127.0.0.1:9092}
worktree=$(mktemp -d)/base
cd "$root"
git worktree add -q --detach "$worktree" "$base"
trap 'git -C "$root" worktree remove --force "$worktree"; "$root/deploy/local/broker.sh" stop >/dev/null || true' EXIT
# kafka-bench lives in Benchmarks/ (its own package) since it left the product's package; older
# revisions have it at the root.
build_kafka_bench() {  # DIR SCRATCH
  local package=.
  [ -f "$1/Benchmarks/Package.swift" ] && package=Benchmarks
  (cd "$1" && swift build -c release --package-path "$package" --product kafka-bench --scratch-path "$2" | tail -1)
}
build_kafka_bench "$root" "$root/.build-bench"
build_kafka_bench "$worktree" "$root/.build-bench-base"
for round in $(seq 1 "$rounds"); do
  for side in base change; do
    bin=$root/.build-bench/release/kafka-bench
    [ "$side" = base ] && bin=$root/.build-bench-base/release/kafka-bench
    "$root/deploy/local/broker.sh" restart >/dev/null
    "$bin" create-topic --brokers "$brokers" --topic jobstream.bench.produce --partitions 6 --log-level warning >/dev/null
    rate=$("$bin" produce --brokers "$brokers" --topic jobstream.bench.produce --size 100 --count 2000000 \
      --log-level warning | grep '^msgs/s:' | awk '{print $NF}')
    echo "round $round $side $rate msgs/s"
  done
done

#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS seconds (default 60): builds them with -sanitize=fuzzer,address
# into .build-fuzz, starts from the saved corpus (Tests/Fuzz/corpus/<target>, grown into
# .local/fuzz/<target>), and keeps any input that crashes a target in Tests/Fuzz/regressions/<target>/,
# where the test suite replays it from then on. Exits non-zero when a target found a crash.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
swift=${SWIFT:-swift}
targets=(csv envelope)
for target in "${targets[@]}"; do
  if ! "$swift" build --product "fuzz-$target" --scratch-path .build-fuzz \
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld >.local/fuzz/build-$target.log 2>&1; then
    tail -40 .local/fuzz/build-$target.log
    exit 1
  fi
done
status=0
for target in "${targets[@]}"; do
  corpus=.local/fuzz/$target
  regressions=Tests/Fuzz/regressions/$target
  mkdir -p "$corpus" "$regressions"
  echo "fuzz: $target for $seconds s"
  if ! SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 ".build-fuzz/debug/fuzz-$target" -max_total_time="$seconds" -max_len=4096 \
       -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$regressions/" -print_final_stats=1 \
       "$corpus" "Tests/Fuzz/corpus/$target" 2>.local/fuzz/$target.log; then
    echo "fuzz: $target FAILED; the input is kept in $regressions/ (log: .local/fuzz/$target.log)"
    tail -40 .local/fuzz/$target.log
    status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' .local/fuzz/$target.log | sed "s/^/fuzz: $target /"
  fi
done
exit $status

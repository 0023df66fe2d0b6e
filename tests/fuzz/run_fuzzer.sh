#!/usr/bin/env bash
# build <source root> <fuzz build dir>: configures and builds the clang fuzz project.
# run <fuzz build dir> <fuzzer> <seconds> <seed corpus dir>: runs one fuzzer for a bounded time
# on a scratch copy of the corpus (the committed seeds are never modified); fails on a crash.
set -euo pipefail
case "$1" in
  build)
    root=$2 build=$3
    export CCACHE_DIR=${CCACHE_DIR:-$root/.var/ccache}
    CXX=clang++ cmake -S "$root/tests/fuzz/project" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j "$(nproc)"
    ;;
  run)
    build=$2 fuzzer=$3 seconds=$4 seeds=$5
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    # Leaks: the harness and gRPC keep process-lifetime objects. Container-overflow checks give
    # false alarms across the boundary to Debian's uninstrumented libraries.
    export ASAN_OPTIONS=detect_leaks=0:detect_container_overflow=0:abort_on_error=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    cd "$scratch"
    "$build/$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 -max_len=65536 \
      -print_final_stats=1 "$scratch" "$seeds" 2>&1 | grep -v "^#[0-9]*\s*\(NEW\|REDUCE\|pulse\)" | tail -40
    exit "${PIPESTATUS[0]}"
    ;;
  *)
    echo "usage: run_fuzzer.sh build ROOT BUILD | run BUILD FUZZER SECONDS SEEDS" >&2
    exit 2
    ;;
esac

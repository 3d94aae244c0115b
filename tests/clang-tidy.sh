#!/usr/bin/env bash
# Runs clang-tidy with the checked-in .clang-tidy over every source file of the daemon and turn-auth, using the
# compile commands of the build folder given as $1 (default: build); any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
# GCC-only warning flags in the compile commands are unknown to clang.
run-clang-tidy -p "$build" -quiet -j"$(nproc)" -extra-arg=-Wno-unknown-warning-option "$PWD/(daemon|turn-auth)/" \
  > "$build/clang-tidy.log" 2>&1 || {
  grep -E "(warning|error):" "$build/clang-tidy.log" | sort -u
  echo "clang-tidy found problems (full output: $build/clang-tidy.log)" >&2
  exit 1
}
echo "clang-tidy: no findings"
